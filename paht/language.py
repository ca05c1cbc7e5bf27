"""Is a citizen's text Vietnamese? Facts measured by plain code, for the packs' language articles ("Sử dụng ngôn ngữ
tiếng Việt": ST-22 Điều 4 khoản 1, ST-23 Điều 4 khoản 1, TTH Điều 5 khoản 1, VL Điều 7 khoản 2; TN Điều 6 khoản 1:
"từ ngữ tiếng Việt, có dấu và Bộ mã ký tự chữ Việt Unicode theo tiêu chuẩn 6909:2011").

- `vietnamese_words_rate`: the share of the text's words (tokens without digits) that are Vietnamese syllables (initial consonant, vowel
  nucleus, final consonant as Vietnamese spelling allows, tone marks ignored): Vietnamese typed without accents
  still counts, English or French does not.
- `marked_words_rate`: the share of its words that carry a Vietnamese mark (a tone, ă â ê ô ơ ư, đ) — "có dấu".
- `unicode_text`: the text is Unicode in the composed form (NFC) and carries no character of the legacy 8-bit
  Vietnamese encodings (TCVN3/ABC, VNI, VISCII) that shows up when such text is read as Unicode ("Ñöôøng",
  "§−êng").
A text with no word (only numbers, or empty) gives rates of 1.0: there is nothing to hold it for.
"""
from __future__ import annotations

import re
import unicodedata

# tone marks (grave, acute, tilde, hook above, dot below); breve, circumflex and horn make letters of their own
TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
VOWELS = "aăâeêioôơuưy"
SYLLABLE = re.compile(
    rf"^(?:ngh|ng|gh|gi|kh|nh|ph|qu|th|tr|ch|[bcdđghklmnpqrstvx])?[{VOWELS}]{{1,3}}(?:ch|ng|nh|[cmnpt])?$")
WORD = re.compile(r"[^\W\d_]+")
# a token with a digit in it ("50cm", "30°C", "P.3") is a number or a code, not a word
# the letters of Vietnamese (and the Latin letters f j w z of names and loanwords), lower case, composed
LETTERS = set("abcdefghijklmnopqrstuvwxyzđ") | {
    unicodedata.normalize("NFC", base + mark)
    for base in "aăâeêioôơuưy" for mark in ("", *TONES)
}
MARKED = set(LETTERS) - set("abcdefghijklmnopqrstuvwxyz")
# non-letters of the Latin-1 range a legacy-encoded text shows (TCVN3 puts letters on §, ¨, ©, ®, ¸ …); the few
# symbols people type themselves (°, «, », ×, ±, ², ³, ·) are allowed
LEGACY_SYMBOLS = {chr(code) for code in range(0xA1, 0xC0)} - set("°«»×±²³·")


def _toneless(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in TONES))


def is_syllable(word: str) -> bool:
    """A Vietnamese syllable, as spelled (tone marks ignored); `word` in lower case."""
    return bool(SYLLABLE.match(_toneless(unicodedata.normalize("NFC", word))))


def language_facts(text: str | None) -> dict:
    text = text or ""
    composed = unicodedata.normalize("NFC", text)
    words = [word for token in re.split(r"[\s\-/]+", composed.lower()) if not any(ch.isdigit() for ch in token)
             for word in WORD.findall(token)]
    foreign = any(ch.isalpha() and ch not in LETTERS for ch in composed.lower()) or any(
        ch in LEGACY_SYMBOLS or ch == "\u2212" for ch in composed)
    if not words:
        return {"vietnamese_words_rate": 1.0, "marked_words_rate": 1.0, "unicode_text": text == composed}
    return {
        "vietnamese_words_rate": round(sum(is_syllable(w) for w in words) / len(words), 3),
        "marked_words_rate": round(sum(any(ch in MARKED for ch in w) for w in words) / len(words), 3),
        "unicode_text": text == composed and not foreign,
    }
