"""Is a citizen's text Vietnamese? Facts measured by plain code, for the packs' language articles ("Sử dụng ngôn ngữ
tiếng Việt": ST-22 Điều 4 khoản 1, ST-23 Điều 4 khoản 1, TTH Điều 5 khoản 1, VL Điều 7 khoản 2; TN Điều 6 khoản 1:
"từ ngữ tiếng Việt, có dấu và Bộ mã ký tự chữ Việt Unicode theo tiêu chuẩn 6909:2011").

- `vietnamese_words_rate`: the share of the text's words (tokens without digits) that are Vietnamese syllables (initial consonant, vowel
  nucleus, final consonant as Vietnamese spelling allows, tone marks ignored): Vietnamese typed without accents
  still counts, English or French does not.
- `marked_words_rate`: the share of its words that carry a Vietnamese mark (a tone, ă â ê ô ơ ư, đ) — "có dấu".
- `unicode_text`: the text carries no character of the legacy 8-bit Vietnamese encodings (TCVN3/ABC, VNI, VISCII)
  that shows up when such text is read as Unicode ("Ñöôøng", "§−êng"). Decomposed (NFD) Vietnamese is Unicode too:
  it is measured composed, not held for its form.
A text of fewer than three words (a code, a symbol, nothing) tells no language: rates of 1.0, nothing to hold.
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
# a token with a digit in it ("50cm", "30°C", "P.3") is a number or a code, not a word; fewer words than this tell
# no language
MIN_WORDS = 3
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


def words_of(text: str) -> list[str]:
    """The words a language can be told from: compatibility-folded (styled letters read as letters), composed, the
    marks no Vietnamese letter takes dropped (decorations), tokens with a digit skipped, and single consonants
    (initials, codes) left out."""
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFKC", text)).lower()
    folded = "".join(ch for ch in folded if unicodedata.category(ch) != "Mn")
    return [word for token in re.split(r"[\s\-/]+", folded) if not any(ch.isdigit() for ch in token)
            for word in WORD.findall(token) if len(word) > 1 or is_syllable(word)]


def language_facts(text: str | None) -> dict:
    text = text or ""
    composed = unicodedata.normalize("NFC", text)
    # a letter of the Latin-1 or Latin Extended ranges Vietnamese does not use, or a legacy symbol: 8-bit text
    legacy = any((0xC0 <= ord(ch) <= 0x24F and ch.isalpha() and ch.lower() not in LETTERS) or ch in LEGACY_SYMBOLS
                 or ch == "\u2212" for ch in composed)
    words = words_of(text)
    if len(words) < MIN_WORDS:
        return {"vietnamese_words_rate": 1.0, "marked_words_rate": 1.0, "unicode_text": not legacy}
    return {
        "vietnamese_words_rate": round(sum(is_syllable(w) for w in words) / len(words), 3),
        "marked_words_rate": round(sum(any(ch in MARKED for ch in w) for w in words) / len(words), 3),
        "unicode_text": not legacy,
    }
