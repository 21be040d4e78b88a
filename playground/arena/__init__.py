"""Arena: blind pairwise rating of model answers, ratings with intervals, rater agreement."""
