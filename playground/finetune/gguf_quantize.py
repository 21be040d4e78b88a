"""The GGUF types an export offers, and llama.cpp's quantiser run in a child process.

The quantiser is llama-cpp-python's binding of ``llama_model_quantize``. It runs as
``python -m playground.finetune.gguf_quantize IN OUT TYPE`` rather than in the app: a Stop
can kill it (a 7B model takes minutes), and an abort inside llama.cpp ends that child, not
the app.

On a small model the type changes answers (of 7 short factual prompts answered greedily, a
SmolLM2 f16 export and its Q4_1 differed on 2), so each type says what it trades.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from playground.errors import InvalidInput
from playground.i18n import Text, t

F16 = "f16"
BILLION = 1_000_000_000


@dataclass(frozen=True)
class QuantType:
    name: str  # as llama.cpp and file names spell it
    ftype: str  # the llama_cpp constant (LLAMA_FTYPE_MOSTLY_*)
    bytes_per_param: float  # what one weight costs on disk, about (K-quants mix block types)
    explain_key: str  # one line: the size and quality trade-off

    @property
    def explanation(self) -> Text:
        return t(self.explain_key)


QUANT_TYPES: dict[str, QuantType] = {
    q.name: q
    for q in (
        QuantType(F16, "LLAMA_FTYPE_MOSTLY_F16", 2.0, "export.quant_f16"),
        QuantType("Q8_0", "LLAMA_FTYPE_MOSTLY_Q8_0", 1.07, "export.quant_q8_0"),
        QuantType("Q5_K_M", "LLAMA_FTYPE_MOSTLY_Q5_K_M", 0.72, "export.quant_q5_k_m"),
        QuantType("Q4_K_M", "LLAMA_FTYPE_MOSTLY_Q4_K_M", 0.62, "export.quant_q4_k_m"),
    )
}


def check_quant(name: object) -> QuantType:
    """The type named (case does not matter: "q8_0" is Q8_0), or a plain refusal listing the types."""
    wanted = str(name or "").strip()
    for quant in QUANT_TYPES.values():
        if quant.name.lower() == wanted.lower():
            return quant
    raise InvalidInput(t("export.unknown_quant", quant=wanted or "-", types=", ".join(QUANT_TYPES)))


def default_quant(params: int | None) -> str:
    """Q8_0 for models under 1B parameters (quantising them harder changes answers visibly; the
    file stays small anyway), Q4_K_M above (the usual choice where size matters)."""
    return "Q8_0" if params is None or params < BILLION else "Q4_K_M"


def quantise_command(source: Path, target: Path, quant: QuantType) -> list[str]:
    return [sys.executable, "-m", "playground.finetune.gguf_quantize", str(source), str(target), quant.ftype]


def quantise_here(source: Path, target: Path, ftype_name: str, threads: int = 0) -> int:
    """Quantise in this process to ``ftype_name`` (a llama_cpp LLAMA_FTYPE_* name, or its number);
    llama.cpp's return code (0 when it wrote ``target``)."""
    import ctypes

    import llama_cpp

    ftype = int(ftype_name) if ftype_name.isdigit() else getattr(llama_cpp, ftype_name, None)
    if ftype is None:  # an older llama-cpp-python without this type
        print(f"llama-cpp-python has no {ftype_name}", file=sys.stderr)
        return 2
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = threads
    return int(llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), ctypes.byref(params)))


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m playground.finetune.gguf_quantize IN.gguf OUT.gguf LLAMA_FTYPE_NAME", file=sys.stderr)
        return 2
    code = quantise_here(Path(argv[0]), Path(argv[1]), argv[2])
    print(f"llama_model_quantize returned {code}", flush=True)
    return 0 if code == 0 else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
