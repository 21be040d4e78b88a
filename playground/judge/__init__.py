"""Automatic judge: rubric grading (0–3, one criterion per call), pairwise verdicts with swapped
sides, human grades, and agreement between the judge and people."""
