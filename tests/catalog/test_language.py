"""Title language inference (recsys.catalog.language) on hand-written titles."""

from __future__ import annotations

import pytest

from recsys.catalog.language import akas_language, infer, script_language, segments, title_language


@pytest.mark.parametrize(
    ("primary", "original", "expected"),
    [
        # romanised Japanese: particles, long vowels, a long word of a foreign original
        ("Spirited Away", "Sen to Chihiro no kamikakushi", "ja"),
        ("Seven Samurai", "Shichinin no samurai", "ja"),
        ("My Neighbor Totoro (Tonari no Totoro)", None, "ja"),
        ("Princess Mononoke (Mononoke-hime)", None, "ja"),
        ("Rashomon", "Rashômon", "ja"),
        ("Your Name.", "Kimi no na wa.", "ja"),
        # romanised Korean
        ("Parasite", "Gisaengchung", "ko"),
        ("Oldboy", "Oldeuboi", "ko"),
        ("Memories of Murder", "Salinui chueok", "ko"),
        ("Train to Busan", "Busanhaeng", "ko"),
        # Pinyin
        ("Crouching Tiger, Hidden Dragon", "Wo hu cang long", "zh"),
        # romanised Hindi
        ("Dilwale Dulhania Le Jayenge", None, "hi"),
        ("Kabhi Khushi Kabhie Gham...", None, "hi"),
        ("Like Stars on Earth", "Taare Zameen Par", "hi"),
        # European languages: articles, elisions, letters
        ("Amélie", "Le fabuleux destin d'Amélie Poulain", "fr"),
        ("400 Blows, The (Les quatre cents coups)", None, "fr"),
        ("Pan's Labyrinth", "El laberinto del fauno", "es"),
        ("City of God", "Cidade de Deus", "pt"),
        ("Boot, Das (Boat, The)", None, "de"),
        ("The Lives of Others", "Das Leben der Anderen", "de"),
        ("Bicycle Thieves", "Ladri di biciclette", "it"),
        ("Let the Right One In", "Låt den rätte komma in", None),  # sv / da / no share "den": a miss
        ("The Hunt", "Jagten", None),  # a single unknown word
        # scripts
        ("Spirited Away", "千と千尋の神隠し", "ja"),
        ("Parasite", "기생충", "ko"),
        ("Hero", "英雄", "zh"),
        ("Leviathan", "Левиафан", "ru"),
        ("Dangal", "दंगल", "hi"),
        ("Vikram", "விக்ரம்", "ta"),
        # English: function words and English words only
        ("The Matrix", None, "en"),
        ("The Lord of the Rings: The Return of the King", None, "en"),
        ("Man on Fire", None, "en"),
        ("The Last Samurai", None, "en"),
        ("Once Upon a Time in Hollywood", "Once Upon a Time in... Hollywood", "en"),
        # tricky English titles that look foreign: must not be guessed foreign
        ("No Time to Die", None, "en"),
        ("Die Hard", None, None),
        ("Amadeus", None, None),
        ("Inception", None, None),
        ("Banana Karate", None, None),
        ("Leon", None, None),
        ("Europa", None, None),
        ("Michael", None, None),
        ("Bãhubali: The Beginning", None, None),  # a non-ASCII word: not English
        ("Lagaan", None, None),
        ("Oppenheimer", None, None),
        ("Fa yeung nin wah", None, None),  # Cantonese monosyllables: neither Korean nor Pinyin
        ("District B13", "Banlieue 13", None),  # French -ieu is no Korean eu
    ],
)
def test_title_language(primary: str, original: str | None, expected: str | None) -> None:
    assert title_language(primary, original) == expected


def test_segments_split_parentheses_and_restore_inverted_articles() -> None:
    assert segments("My Neighbor Totoro (Tonari no Totoro)") == ["My Neighbor Totoro", "Tonari no Totoro"]
    assert segments("Boot, Das (Boat, The)") == ["Das Boot", "The Boat"]
    assert segments("Seven (a.k.a. Se7en)") == ["Seven", "Se7en"]


def test_script_needs_a_majority_of_the_letters() -> None:
    assert script_language("千と千尋の神隠し") == "ja"
    assert script_language("英雄") == "zh"
    assert script_language("Amélie") is None
    assert script_language("Mission: Impossible 東京") is None  # 2 Han letters, 17 Latin
    assert script_language("Кіборги") == "uk"
    assert script_language("جدایی نادر از سیمین") == "fa"


def test_akas_regions_of_the_original_title() -> None:
    assert akas_language(["JP", "US"]) == ("ja", "JP")
    assert akas_language(["US", "GB"]) == ("en", None)
    assert akas_language(["US"]) == ("en", "US")
    assert akas_language(["FR", "DE"]) == (None, None)
    assert akas_language(["BE"]) == (None, None)  # two main languages: no evidence
    assert akas_language(["US", "IN"], ["hi"]) == ("hi", "IN")  # a language value decides
    assert akas_language([]) == (None, None)
    assert akas_language(["US", "IN"]) == (None, None)  # India keeps English titles too
    assert akas_language(["IN"]) == ("hi", "IN")
    assert akas_language(["US", "GB", "SE", "DE"]) == ("en", None)  # kept in many countries


def test_infer_combines_titles_and_akas() -> None:
    # the title alone
    assert infer("Spirited Away", "Sen to Chihiro no kamikakushi") == ("ja", None)
    # akas give the region of the same language
    assert infer("Spirited Away", "Sen to Chihiro no kamikakushi", ["JP", "US"]) == ("ja", "JP")
    # an English-looking title carried only by Indian rows is Hindi
    assert infer("3 Idiots", "3 Idiots", ["IN"]) == ("hi", "IN")
    # a title-word guess beats English-speaking regions that kept the original title
    assert infer("Amélie", "Le fabuleux destin d'Amélie Poulain", ["FR", "US", "GB"]) == ("fr", "FR")
    # IN -> hi, unless the script says Tamil
    assert infer("Vikram", "விக்ரம்", ["IN"]) == ("ta", "IN")
    # an unknown title of an English-speaking region
    assert infer("Inception", "Inception", ["US", "GB"]) == ("en", None)
    assert infer("Inception", "Inception") == (None, None)
