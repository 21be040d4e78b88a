"""English prompt texts (the reference catalogue: the others mirror its fields)."""

from playground.prompts_i18n import CriterionText, JudgeTexts, PromptTexts, RagTexts

RAG = RagTexts(
    system=(
        "You answer questions using only the numbered sources given. After each fact, write the number of the "
        "source it comes from in square brackets, like [1]. If the sources do not contain the answer, say you "
        "could not find it in the documents."
    ),
    sources="Sources:",
    page="page",
    question="Question:",
    instruction="Answer using the sources and cite them like [1].",
)

JUDGE = JudgeTexts(
    rubric_system="You are a strict, fair grader. You grade one answer on one criterion with a whole number from 0 to 3.",
    pair_system="You are a strict, fair judge. You compare two answers to the same question and say which one is better.",
    criterion="Criterion",
    scores="Scores",
    against_references=" Judge it against the reference passages.",
    references="Reference passages (the answer must agree with these):",
    question="Question:",
    answer_to_grade="Answer to grade:",
    empty_answer="(empty answer)",
    score_reply="Reply in exactly two lines:\nReason: <one sentence>\nScore: <0, 1, 2 or 3>",
    answer_a="Answer A:",
    answer_b="Answer B:",
    pair_question="Which answer is better: more correct, more complete and easier to read?",
    winner_reply="Reply in exactly two lines:\nReason: <one sentence>\nWinner: <A, B or tie>",
    retry="Answer with one line only: {field}: <{choices}>",
    score_choices="0, 1, 2 or 3",
    winner_choices="A, B or tie",
    default_rubric_name="Answer quality (default)",
    default_criteria={
        "correctness": CriterionText(
            "correctness",
            "Is the answer factually right and does it answer the question that was asked?",
            (
                "Wrong or off-topic: the main claim is false, or it answers a different question.",
                "Mostly wrong: some true statements, but the main point is wrong or missing.",
                "Mostly right: the main point is correct, with a small error or a missing detail.",
                "Fully right: every claim is correct and the question is answered.",
            ),
        ),
        "comprehensiveness": CriterionText(
            "comprehensiveness",
            "Does the answer cover everything the question asks for?",
            (
                "Covers none of what was asked.",
                "Covers a small part of what was asked.",
                "Covers most of what was asked; one part is thin or missing.",
                "Covers every part of what was asked.",
            ),
        ),
        "readability": CriterionText(
            "readability",
            "Is the answer clear, well organised and easy to read?",
            (
                "Unreadable: garbled, repeated or broken text.",
                "Hard to read: rambling, badly ordered or confusing.",
                "Readable, with some clumsy or wordy parts.",
                "Clear, concise and well organised.",
            ),
        ),
    },
)

TEXTS = PromptTexts("en", RAG, JUDGE)
