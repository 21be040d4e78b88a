"""Textos de prompt em português do Brasil. Os rótulos que o parser lê ("Reason:", "Score:",
"Winner:", A / B / tie e as citações [n]) ficam iguais aos do inglês: um só parser para todos."""

from playground.prompts_i18n import CriterionText, JudgeTexts, PromptTexts, RagTexts

RAG = RagTexts(
    system=(
        "Você responde a perguntas usando apenas as fontes numeradas fornecidas. Depois de cada informação, "
        "escreva entre colchetes o número da fonte de onde ela vem, por exemplo [1]. Se as fontes não trouxerem "
        "a resposta, diga que não a encontrou nos documentos. Responda em português."
    ),
    sources="Fontes:",
    page="página",
    question="Pergunta:",
    # "Resposta:" cues a base model (Gemma 3 270M, the one suggested for Portuguese) to answer
    # rather than continue the prompt: measured, it then cites the right source first.
    instruction="Responda usando as fontes e cite-as assim: [1].\nResposta:",
)

JUDGE = JudgeTexts(
    rubric_system=(
        "Você é um avaliador rigoroso e justo. Você avalia uma resposta em um critério com um número inteiro de 0 a 3."
    ),
    pair_system=(
        "Você é um juiz rigoroso e justo. Você compara duas respostas à mesma pergunta e diz qual delas é melhor."
    ),
    criterion="Critério",
    scores="Notas",
    against_references=" Avalie em relação aos trechos de referência.",
    references="Trechos de referência (a resposta deve concordar com eles):",
    question="Pergunta:",
    answer_to_grade="Resposta a avaliar:",
    empty_answer="(resposta vazia)",
    score_reply=(
        "Responda em exatamente duas linhas, com os rótulos em inglês, assim:\n"
        "Reason: <uma frase, em português>\n"
        "Score: <0, 1, 2 ou 3>"
    ),
    answer_a="Resposta A:",
    answer_b="Resposta B:",
    pair_question="Qual resposta é melhor: mais correta, mais completa e mais fácil de ler?",
    winner_reply=(
        "Responda em exatamente duas linhas, com os rótulos em inglês, assim:\n"
        "Reason: <uma frase, em português>\n"
        "Winner: <A, B ou tie (empate)>"
    ),
    retry="Responda com uma única linha: {field}: <{choices}>",
    score_choices="0, 1, 2 ou 3",
    winner_choices="A, B ou tie",
    default_rubric_name="Qualidade da resposta (padrão)",
    default_criteria={
        "correctness": CriterionText(
            "correção",
            "A resposta está factualmente certa e responde à pergunta que foi feita?",
            (
                "Errada ou fora do assunto: a afirmação principal é falsa, ou responde a outra pergunta.",
                "Quase toda errada: algumas afirmações verdadeiras, mas o ponto principal está errado ou ausente.",
                "Quase toda certa: o ponto principal está correto, com um pequeno erro ou um detalhe faltando.",
                "Totalmente certa: todas as afirmações estão corretas e a pergunta foi respondida.",
            ),
        ),
        "comprehensiveness": CriterionText(
            "abrangência",
            "A resposta cobre tudo o que a pergunta pede?",
            (
                "Não cobre nada do que foi pedido.",
                "Cobre uma pequena parte do que foi pedido.",
                "Cobre a maior parte do que foi pedido; uma parte está fraca ou faltando.",
                "Cobre todas as partes do que foi pedido.",
            ),
        ),
        "readability": CriterionText(
            "legibilidade",
            "A resposta é clara, bem organizada e fácil de ler?",
            (
                "Ilegível: texto truncado, repetido ou quebrado.",
                "Difícil de ler: prolixa, mal ordenada ou confusa.",
                "Legível, com algumas partes truncadas ou longas demais.",
                "Clara, concisa e bem organizada.",
            ),
        ),
    },
)

TEXTS = PromptTexts("pt", RAG, JUDGE)
