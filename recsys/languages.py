"""Names of the original languages a title can carry (ISO 639-1 codes, :data:`Columns.LANGUAGE`).

A taste for a cinema is named after its language in reasons ("Because you like Hindi films") and
in the lab; codes without a name here are shown as the code itself.
"""

from __future__ import annotations

#: ISO 639-1 code -> adjective used in reasons and labels.
LANGUAGE_NAMES: dict[str, str] = {
    "ar": "Arabic",
    "bn": "Bengali",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "he": "Hebrew",
    "hi": "Hindi",
    "hu": "Hungarian",
    "id": "Indonesian",
    "it": "Italian",
    "ja": "Japanese",
    "kn": "Kannada",
    "ko": "Korean",
    "ml": "Malayalam",
    "mr": "Marathi",
    "nl": "Dutch",
    "no": "Norwegian",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sv": "Swedish",
    "ta": "Tamil",
    "te": "Telugu",
    "th": "Thai",
    "tl": "Filipino",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "vi": "Vietnamese",
    "zh": "Chinese",
}


def language_name(code: str | None) -> str | None:
    """``"hi"`` -> ``"Hindi"``; an unknown code is returned as given; None stays None."""
    if not code:
        return None
    return LANGUAGE_NAMES.get(code, code)
