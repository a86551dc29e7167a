"""A title's original language (ISO 639-1, :data:`Columns.LANGUAGE`) and region (ISO 3166-1), inferred
from its titles and, where downloaded, from ``title.akas``. Pure functions; the build calls
:func:`infer` once per catalogue title.

**Evidence, strongest first.**

1. *Script of the original title* (``originalTitle``; a MovieLens-style ``English (Original)``
   primary title counts its parentheses as the original): the majority script of its letters.
   Hangul -> ko, Kana -> ja, Han only -> zh, Devanagari -> hi, Bengali -> bn, Tamil -> ta,
   Telugu -> te, Kannada -> kn, Malayalam -> ml, Gurmukhi -> pa, Gujarati -> gu, Thai -> th,
   Greek -> el, Hebrew -> he, Arabic -> ar (fa with Persian letters), Cyrillic -> ru (uk with
   Ukrainian letters), Georgian -> ka, Armenian -> hy. IMDb romanises most original titles, so
   this fires rarely on IMDb data, always on TMDb-like titles.
2. *Words of a Latin-script original title*, each segment (the parts outside and inside
   parentheses, ``a.k.a.`` dropped) on its own:

   - romanised Japanese (Hepburn): every word splits into Japanese syllables (``shi``, ``chi``,
     ``tsu``, ``kyo``, geminates, syllabic ``n``, IMDb's long vowels ``ô``/``û``) and the segment
     has a particle (``no to wa ga ni wo mo``) or a long vowel, or is one long (>= 6 letters)
     word of a title whose original differs from the primary: ``Sen to Chihiro no kamikakushi``,
     ``Mononoke-hime``, ``Byakuyakô``;
   - romanised Korean (Revised Romanisation): every word splits into Korean syllables and one
     has ``eo`` / ``eu`` / ``ui`` / ``yeo``: ``Gisaengchung``, ``Oldeuboi``, ``Salinui chueok``;
   - Pinyin: >= 2 words, each one Mandarin syllable, at least one only Pinyin has (``x``, ``q``,
     ``zh``, ``-ang``, ``-ong``, ``-iao``, ...): ``Wo hu cang long``;
   - other languages by small word lists (articles, prepositions, pronouns, frequent title nouns;
     Hindi: ``ka ki ke hai mein aur dil pyaar zindagi ...`` and verb endings ``-enge``) and
     letters only some use (``ñ`` es; ``ã õ`` pt; ``ß`` de; ``ø æ`` da/no; ``å`` sv/da/no; ``ł ś
     ż ą ę`` pl; ``ř ě ů`` cs; ``ő ű`` hu; ``ğ ş ı`` tr; ``ă ș ț`` ro); elisions (``d'``,
     ``l'``) count for French. The best language needs two points and a lead of one point
     over the second.
   - English: at least one English function word (``the of and in ...``), English words for at
     least half the words, and no other language scoring. Otherwise unknown: ``Inception``,
     ``Lagaan`` and ``Oldboy`` stay null rather than guessed.

   A title whose segments disagree takes the non-English one (``Boot, Das (Boat, The)`` is
   German: the English part is the translation).
3. *title.akas* (:func:`akas_language`): the regions whose rows carry the original title, and the
   ``language`` column of those rows (mostly ``\\N``). A region counts for its main language
   (:data:`REGION_LANGUAGE`; IN -> hi, unless the title's script says ta / te / ml / ...);
   English-speaking regions keep many foreign titles unchanged, so a non-English region wins over
   them; regions of two different non-English languages say nothing. PITFALLS: akas is not a
   country-of-origin table, an American film has Indian rows too; only rows whose title *is*
   the original title are used.

**Combination** (:func:`infer`): script > a non-English word guess > the akas language > an
English word guess; the region is the akas region whose main language is the chosen language,
when exactly one is.

**Measured** on the mirror catalogue (81,154 titles, no akas file): a hand-checked list of 67
well-known titles (47 non-English: Spirited Away, Parasite, Amélie, Dilwale Dulhania Le
Jayenge, ...; 20 English: The Matrix, Die Hard, Inception, ...) gets 34 right, 0 wrong, 33
unknown (26 of 47 non-English right, 8 of 20 English right; the unknown are one-word or
name-only titles such as Inception, Akira, Dangal, Jagten). On 60 random non-English guesses,
58 were right (the two misses: a German one-word title read as Japanese, a Pinyin title read as
Turkish). Languages: en 20,473, ja 1,265, fr 1,187, zh 615, es 470, de 453, ko 446, it 327,
other 580, unknown 55,338. ``tests/catalog/test_language.py`` holds the rules' cases.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

# ------------------------------------------------------------------ scripts

#: Unicode script (first word of the character name) -> language.
SCRIPT_LANGUAGE: dict[str, str] = {
    "HANGUL": "ko",
    "HIRAGANA": "ja",
    "KATAKANA": "ja",
    "CJK": "zh",
    "DEVANAGARI": "hi",
    "BENGALI": "bn",
    "TAMIL": "ta",
    "TELUGU": "te",
    "KANNADA": "kn",
    "MALAYALAM": "ml",
    "GURMUKHI": "pa",
    "GUJARATI": "gu",
    "THAI": "th",
    "GREEK": "el",
    "HEBREW": "he",
    "ARABIC": "ar",
    "CYRILLIC": "ru",
    "GEORGIAN": "ka",
    "ARMENIAN": "hy",
}
_PERSIAN_LETTERS = set("پچژگکی")
_UKRAINIAN_LETTERS = set("іїєґІЇЄҐ")


def script_language(text: str) -> str | None:
    """The language of the majority non-Latin script of ``text``'s letters, or None.

    ``"千と千尋の神隠し"`` -> ``"ja"`` (any Kana among Han makes it Japanese), ``"기생충"`` ->
    ``"ko"``, ``"Amélie"`` -> None (Latin).
    """
    counts: Counter[str] = Counter()
    latin = 0
    for ch in text:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        script = name.split(" ", 1)[0]
        if script == "LATIN":
            latin += 1
        elif script in SCRIPT_LANGUAGE:
            counts[script] += 1
    if not counts:
        return None
    if counts["HIRAGANA"] or counts["KATAKANA"]:
        script = "HIRAGANA"
        total = counts["HIRAGANA"] + counts["KATAKANA"] + counts["CJK"]
    else:
        script, total = counts.most_common(1)[0]
    if total < latin:
        return None
    lang = SCRIPT_LANGUAGE[script]
    if lang == "ar" and any(ch in _PERSIAN_LETTERS for ch in text):
        return "fa"
    if lang == "ru" and any(ch in _UKRAINIAN_LETTERS for ch in text):
        return "uk"
    return lang


# ------------------------------------------------------------------ romanisations

_JA_SYLLABLE = (
    r"(?:kk|ss|tt|pp|tch|cch)?"
    r"(?:ky|gy|sh|ch|ts|ny|hy|by|py|my|ry|j|[kgsztdnhbpmrfyw])?"
    r"[aiueoâîûêôāīūēō]"
    r"|n(?![aiueoâîûêôāīūēōy])"
)
_JA_WORD = re.compile(rf"(?:{_JA_SYLLABLE})+")
_JA_PARTICLES = frozenset({"no", "to", "wa", "ga", "ni", "wo", "mo", "kara", "made", "yori"})
_JA_LONG = re.compile(r"[ôûāūō]")
#: Honorific suffixes joined by a hyphen: "Mononoke-hime", "Chiwawa-chan".
_JA_SUFFIX = re.compile(r"\w-(?:hime|chan|kun|sama|san|sensei|dono)\b")
#: Sounds frequent in Japanese and rare in European words (a lone long word must have one).
_JA_MARK = re.compile(r"tsu|shi|chi|fu|ji|ky|gy|ry|ny|hy|sh|uu|ou|ei|kk|tt|ss|pp")

_KO_INITIAL = r"(?:kk|tt|pp|ss|jj|ch|[gkndtrlmbpsjh])?"
_KO_VOWEL = r"(?:yae|yeo|wae|ae|ya|eo|ye|wa|oe|yo|wo|we|wi|yu|eu|ui|a|e|o|u|i)"
_KO_FINAL = r"(?:ng|[kntlmpgb])?"
_KO_WORD = re.compile(rf"(?:{_KO_INITIAL}{_KO_VOWEL}{_KO_FINAL})+")
_KO_SYLLABLE = re.compile(rf"{_KO_INITIAL}{_KO_VOWEL}{_KO_FINAL}")
_KO_MARK = re.compile(r"eo|eu|ui|yeo")
_KO_WEAK_MARK = re.compile(r"ae|oe")  # counts only in an original title that differs

_PY_INITIAL = r"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
_PY_FINAL = (
    r"(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|ai|ei|ao|ou|an|en|in|un|ia|ie|iu|ua|uo|ui|"
    r"er|a|o|e|i|u|ü)"
)
_PY_WORD = re.compile(rf"{_PY_INITIAL}{_PY_FINAL}")
_PY_MARK = re.compile(r"^[xq]|^zh|^z[aeiou]|^c[aeiou]|ang$|ong$|iao$|uo$|ian$|uan$|iu$|^[bdjlmnpqtx]ie$")

# ------------------------------------------------------------------ word lists


def _wordset(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``."""
    return frozenset(text.split())


_EN_FUNCTION = _wordset(
    """
        the of and a an in on at to for with from by my your his her our their is are was
        were be been it its this that these those who what when where why how all no not i
        you he she we they me us him them up down out over under into about after before
        again never ever only just than then there here some any every more most very too
        off so if or but as do does did don't can't won't i'm it's
        """
)
_EN_WORDS = _EN_FUNCTION | _wordset(
    """
        love man men woman women night day days life world story war wars house girl girls
        boy boys dead death king queen time last first one two three four five little big
        great good bad old new black white red blue green dark light star stars home family
        secret lost city town street road american christmas game games dog dogs cat blood
        heart heaven hell god devil ghost monster monsters children kids mother father
        brother brothers sister sisters son daughter wife husband friend friends people
        school summer winter spring part return rise fall kill killer killers murder movie
        show live living beautiful young wild power island earth sea water fire moon sun sky
        land country west north south east lady lord rings men's man's men princess prince
        hunter hunters mr mrs miss dr doctor captain president soldier soldiers dream dreams
        nightmare legend legends adventure adventures tale tales tales revenge escape hard
        die another long way back home go going gone get got make made let take want need
        say tell see look find found run running fly flying come coming dance last inside
        outside between behind beyond against without within through story stories picture
        movie company mission impossible fast furious rock street truth lies lie hope fear
        angel angels beast shadow shadows blood bloody crazy happy sad best better worst
        true real perfect strange wonderful amazing incredible super hero heroes battle
        final end beginning day night evening morning hour hours year years minute minutes
        second seconds week weeks life lives girl's boy's king's death's time's
        """
)

#: Words of each language (lower case; distinctive title words and function words). A word in
#: several lists counts for each.
_LEXICON: dict[str, frozenset[str]] = {
    "fr": _wordset(
        """
        le la les l' d' du des de un une et est pour dans sur avec sans qui que ne pas au
        aux ce cette ces mon ma mes ton ta tes sa ses nous vous je il elle ils elles à très
        tout toute tous plus petit petite petits grand grande vie amour nuit jour homme
        hommes femme femmes fille filles mort monde père mère fils soeur sœur frère coeur
        cœur ciel enfants enfant destin histoire guerre été chez entre être comme où oui
        c'est j'ai quatre cents coups fabuleux nouvelle vague belle beau dernier dernière
        premier première temps jeunes rouge noir noire blanc blanche bleu mes vos nos leur
        leurs aussi encore jamais toujours rien personne quelque chose parce moi toi lui eux
        sous vers après avant contre pendant depuis ici là voyage année années maison
        chambre rue ville mer terre dieu lieu feu jeu bleu bleue peu deux mieux yeux adieu
        heure banlieue
        """
    ),
    "es": _wordset(
        """
        el la los las de del y en un una que por para con sin mi mis tu tus su sus es al lo
        no muerte amor vida noche día dia mujer mujeres hombre hombres niño niña niños hijo
        hija hijos madre padre casa ciudad tierra mar cielo corazón secreto historia guerra
        dios señor señora laberinto fauno mundo tiempo todo todos nada nunca siempre otra
        otro perros amores tres dos cuatro cinco buena bueno malo mala rojo negro blanco
        esta este ese esa como cuando donde quién quien porque entre hasta desde sobre bajo
        también pero más muy hay ser estar soy eres somos sangre ojos agua fuego luna sol
        hermano hermana hermanos amigos amigo
        """
    ),
    "pt": _wordset(
        """
        o os a as do da dos das de e em no na nos nas um uma com sem por para que meu minha
        seu sua cidade deus vida amor morte noite dia mulher homem filho filha mãe pai
        coração não são é eu ele ela eles elas você mais muito quando onde como tudo nada
        sempre nunca casa terra mar céu amigo amigos irmão irmã tempo mundo central brasil
        cheiro tropa elite também aqui ali
        """
    ),
    "it": _wordset(
        """
        il lo la i gli le di del della dello dei degli delle e ed un uno una per con che non
        in nel nella nei negli sul sulla al alla ai allo mio mia tuo tua suo sua amore vita
        notte giorno donna donne uomo uomini morte città padre madre figlio figlia cuore
        storia guerra dolce bella bello ladri biciclette finestra sono sei siamo questo
        questa quello quella tutto tutti niente sempre mai ancora anche più molto come
        quando dove perché chi tra fra senza sotto sopra dopo prima ultimo ultima grande
        piccolo piccola casa mondo tempo occhi sangue fuoco luna sole cielo terra mare
        fratello sorella amici amico d' l' dell' nell' sull' all' un' c'era
        """
    ),
    "de": _wordset(
        """
        der die das den dem des ein eine einen einer eines und ist im vom zum zur von mit
        für auf aus nicht ich du wir ihr sie es wie wo nach bei über unter kein keine liebe
        leben nacht tag mann frau mädchen junge tod welt stadt haus herz geschichte krieg
        boot himmel über berlin einen mein meine dein deine sein seine unser alles nichts
        immer nie noch auch sehr wenn als oder aber zwischen ohne gegen durch vor hinter
        neben heute morgen gestern jahr jahre kinder kind vater mutter sohn tochter bruder
        schwester freund freunde feuer wasser erde sonne mond zeit weg hölle schwarz weiss
        weiß rot blau grün leben andere anderen eine stadt sucht mörder
        """
    ),
    "nl": _wordset(
        """
        de het een van en in op met voor niet is ik je zijn naar bij uit dat wat wie waar
        hoe ook maar nog al geen mijn jouw zijn haar ons onze hun leven liefde nacht dag man
        vrouw meisje jongen dood wereld stad huis hart oorlog kinderen vader moeder zoon
        dochter broer zus vriend vrienden
        """
    ),
    "sv": _wordset(
        """
        och en ett i på av med för till det den som är att jag du inte om min mitt mina din
        ditt han hon vi de kärlek liv livet natt dag man kvinna flicka pojke död världen
        stad hus hjärta krig barn far mor son dotter bror syster vän vänner från under över
        efter innan när var hur vad vem
        """
    ),
    "da": _wordset(
        """
        og en et i på af med for til det den der som er at jeg du ikke min mit mine din dit
        han hun vi de kærlighed liv livet nat dag mand kvinde pige dreng død verden by hus
        hjerte krig børn far mor søn datter bror søster ven venner fra under over efter før
        når hvor hvad hvem
        """
    ),
    "no": _wordset(
        """
        og en et ei i på av med for til det den som er at jeg du ikke min mitt mine din ditt
        han hun vi de kjærlighet liv livet natt dag mann kvinne jente gutt død verden by hus
        hjerte krig barn far mor sønn datter bror søster venn venner fra under over etter
        før når hvor hva hvem
        """
    ),
    "fi": _wordset(
        """
        ja on ei se minä sinä hän me te he olen olet oli kun kuin mutta tai myös vain niin
        elämä rakkaus yö päivä mies nainen tyttö poika kuolema maailma kaupunki talo sydän
        sota lapset isä äiti
        """
    ),
    "pl": _wordset(
        """
        i w z na do nie się jest o od po za ze że jak co to ten ta te mój moja twój twoja
        jego jej nasz wasz ich miłość życie noc dzień mężczyzna kobieta dziewczyna chłopak
        śmierć świat miasto dom serce wojna dzieci ojciec matka syn córka brat siostra
        przyjaciel
        """
    ),
    "cs": _wordset(
        """
        a v na se je z do to že jak co ten ta můj moje tvůj jeho její náš láska život noc
        den muž žena dívka chlapec smrt svět město dům srdce válka děti otec matka syn dcera
        bratr sestra
        """
    ),
    "hu": _wordset(
        """
        a az és egy nem is de hogy ki mi ez az én te ő mi ti ők szerelem élet éjszaka nap
        férfi nő lány fiú halál világ város ház szív háború gyerekek apa anya fiam
        """
    ),
    "tr": _wordset(
        """
        ve bir bu ne ile için da de mi ben sen o biz siz onlar aşk hayat gece gün adam kadın
        kız oğlan ölüm dünya şehir ev kalp savaş çocuklar baba anne
        """
    ),
    "ro": _wordset(
        """
        și în de la cu din pe un o nu este sunt eu tu el ea noi voi ei dragoste viață noapte
        zi bărbat femeie fată băiat moarte lume oraș casă inimă război copii tată mamă
        """
    ),
    "hi": _wordset(
        """
        ka ki ke hai hain mein main aur se ko kya kyun kyon nahi nahin na hum tum aap dil
        pyaar pyar ishq mohabbat zindagi kabhi apna apni apne mera meri mere tera teri tere
        tujhe mujhe yeh woh wala wale wali ek jaan jaane chahta hota hoti kuch dobara milegi
        zameen taare bhai raja rani desh ghar sapne saath pardes dilwale dulhania jayenge
        khushi gham kabhie hoga honge dhoom rang basanti chak de toh phir yaara dost dosti
        munna bhaiya sholay andaz baazigar devdas swades barfi padosan jodi jodha akbar veer
        zaara kal ho naa kahaan kahin kaise kaun kisi
        """
    ),
    "id": _wordset(
        """
        yang dan di ke dari untuk dengan ini itu cinta aku kau kamu dia kita mereka tidak
        bukan hidup malam hari laki perempuan mati dunia kota rumah hati perang anak ayah
        ibu sang
        """
    ),
}
#: Words too common across languages to count alone (they still count inside their lists when
#: another word of the same language is present).
_WEAK = frozenset({"a", "e", "o", "i", "de", "la", "le", "en", "in", "no", "na", "se", "do", "to", "un", "al", "el"})
_HI_SUFFIX = re.compile(r"(?:enge|engi|oge|ogi|aaye|aayi|aate|iyaan|iyan|wala|wale|wali)$")
#: Letters only some languages use -> those languages (a point each).
_LETTERS: dict[str, tuple[str, ...]] = {
    "ñ": ("es",),
    "ã": ("pt",),
    "õ": ("pt",),
    "ç": ("fr", "pt", "tr"),
    "ß": ("de",),
    "ø": ("da", "no"),
    "æ": ("da", "no"),
    "å": ("sv", "da", "no"),
    "ł": ("pl",),
    "ś": ("pl",),
    "ż": ("pl",),
    "ź": ("pl",),
    "ą": ("pl",),
    "ę": ("pl",),
    "ń": ("pl",),
    "ř": ("cs",),
    "ě": ("cs",),
    "ů": ("cs",),
    "ő": ("hu",),
    "ű": ("hu",),
    "ğ": ("tr",),
    "ş": ("tr", "ro"),
    "ı": ("tr",),
    "ă": ("ro",),
    "ș": ("ro",),
    "ț": ("ro",),
    "œ": ("fr",),
    "è": ("fr", "it"),
    "ê": ("fr",),
    "ù": ("fr", "it"),
    "ò": ("it",),
    "ì": ("it",),
    "ä": ("de", "sv", "fi"),
    "ö": ("de", "sv", "fi", "hu", "tr"),
    "ü": ("de", "tr", "hu"),
    "ë": ("nl", "fr"),
}
_FR_ELISION = re.compile(r"^(?:l|d|j|qu|n|c|s|m|t)['’][aeiouyhâàéèêîôœ]")
_IT_ELISION = re.compile(r"^(?:dell|nell|sull|all|dall|quell|un)['’][aeiouh]")

_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_PAREN = re.compile(r"\(([^()]*)\)")
_AKA = re.compile(r"^\s*(?:a\.?k\.?a\.?|aka)\s+", re.IGNORECASE)
_INVERTED_ARTICLE = re.compile(r",\s*([^\s,]+)\s*$")


def segments(title: str) -> list[str]:
    """The parts of a title worth reading separately: the text outside parentheses and each
    parenthesised part (``a.k.a.`` dropped), MovieLens's ``Boot, Das`` put back as ``Das Boot``.

    ``"My Neighbor Totoro (Tonari no Totoro)"`` -> ``["My Neighbor Totoro", "Tonari no Totoro"]``.
    """
    inner = [_AKA.sub("", p).strip() for p in _PAREN.findall(title)]
    outer = _PAREN.sub(" ", title).strip()
    out = []
    for part in [outer, *inner]:
        part = " ".join(part.split())
        m = _INVERTED_ARTICLE.search(part)
        if m and len(m.group(1)) <= 4:
            part = f"{m.group(1)} {part[: m.start()]}"
        if part:
            out.append(part)
    return out


def _words(text: str) -> list[str]:
    out = []
    for tok in _TOKEN.findall(text.lower().replace("-", " ")):
        out.append(tok.replace("’", "'"))
    return out


def _parses(word: str, pattern: re.Pattern[str]) -> bool:
    return pattern.fullmatch(word) is not None


def _european_hits(words: Sequence[str], *, hindi: bool = True) -> int:
    """Words of the European (and Hindi) lists that are not :data:`_WEAK` (``tout``, ``meu``)."""
    lists = [lex for lang, lex in _LEXICON.items() if hindi or lang != "hi"]
    return sum(1 for w in words if w not in _WEAK and any(w in lex for lex in lists))


def _japanese(words: Sequence[str], differs: bool, text: str = "") -> bool:
    if not words or not all(_parses(w, _JA_WORD) for w in words):
        return False
    particle = (any(w in _JA_PARTICLES for w in words) and len(words) >= 3) or bool(_JA_SUFFIX.search(text))
    long_vowel = any(_JA_LONG.search(w) for w in words)
    long_word = differs and len(words) <= 2 and any(len(w) >= 6 and _JA_MARK.search(w) for w in words)
    if any(w in _EN_WORDS and w not in _JA_PARTICLES for w in words):
        return False  # "No Time to Die"
    european = _european_hits(words, hindi=False)  # Hindi "ka", "ko" are Japanese sounds too
    if european >= 2 or (european and not (particle or long_vowel)):
        return False
    return particle or long_vowel or long_word


def _korean(words: Sequence[str], differs: bool) -> bool:
    if not words or not all(_parses(w, _KO_WORD) for w in words):
        return False
    if any(w in _EN_WORDS for w in words) or _european_hits(words):
        return False
    if any("ieu" in w for w in words):
        return False  # French: "Banlieue", "Dieu"
    if all(_KO_SYLLABLE.fullmatch(w) for w in words):
        return False  # monosyllables: Cantonese or Pinyin, Korean joins a word's syllables
    marks = sum(1 for w in words if _KO_MARK.search(w) or (differs and _KO_WEAK_MARK.search(w)))
    return marks >= (1 if differs else 2)


def _pinyin(words: Sequence[str]) -> bool:
    if len(words) < 2 or not all(_parses(w, _PY_WORD) for w in words):
        return False
    if any(w in _EN_FUNCTION for w in words) or _european_hits(words) >= 2:
        return False  # one hit is chance: German "wo" in "Wo hu cang long"
    return sum(1 for w in words if _PY_MARK.search(w)) >= 1


def _lexicon_scores(words: Sequence[str], text: str) -> tuple[dict[str, float], Counter[str]]:
    """(points per language, word hits per language): a word of a list is a point (half for
    :data:`_WEAK` words), an elision or a Hindi verb ending a point, each distinctive letter
    (:data:`_LETTERS`) half a point."""
    scores: dict[str, float] = defaultdict(float)
    hits: Counter[str] = Counter()
    for w in words:
        for lang, lexicon in _LEXICON.items():
            if w in lexicon:
                scores[lang] += 0.5 if w in _WEAK else 1.0
                hits[lang] += 1
        if _FR_ELISION.match(w):
            scores["fr"] += 1.0
            hits["fr"] += 1
        if _IT_ELISION.match(w):
            scores["it"] += 1.5
            hits["it"] += 1
        if _HI_SUFFIX.search(w) and w not in _EN_WORDS:
            scores["hi"] += 1.0
            hits["hi"] += 1
    for ch in set(text.lower()):
        for lang in _LETTERS.get(ch, ()):
            scores[lang] += 0.5
    return scores, hits


def word_language(text: str, *, differs: bool = True) -> str | None:
    """The language of one Latin-script title segment from its words (rules in the module
    docstring), or None. ``differs``: the original title differs from the primary (English)
    title, which lowers the bar for romanised Japanese / Korean single words.

    ``"Shichinin no samurai"`` -> ``"ja"``; ``"Les quatre cents coups"`` -> ``"fr"``; ``"The
    Matrix"`` -> ``"en"``; ``"Inception"`` -> None.
    """
    words = _words(text)
    if not words:
        return None
    if _japanese(words, differs, text.lower()):
        return "ja"
    if _korean(words, differs):
        return "ko"
    if _pinyin(words):
        return "zh"
    scores, hits = _lexicon_scores(words, text)
    english = sum(1 for w in words if w in _EN_WORDS)
    function = sum(1 for w in words if w in _EN_FUNCTION)
    if scores:
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        best, top = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        # a foreign original title (differs) needs one point, a title that is its own primary two
        if hits[best] and top >= (1.5 if differs else 2) and top - second >= 1 and top > english:
            return best
    ascii_only = all(w.isascii() for w in words)
    if ascii_only and function >= 1 and english * 2 >= len(words) and english >= max(scores.values(), default=0):
        return "en"
    return None


def title_language(primary: str | None, original: str | None) -> str | None:
    """The language read from a title's primary and original titles (script, then words)."""
    primary = (primary or "").strip()
    original = (original or "").strip() or primary
    differs = original.casefold() != primary.casefold()
    text = original if differs else primary
    by_script = script_language(text)
    if by_script:
        return by_script
    guesses = [word_language(seg, differs=differs or i > 0) for i, seg in enumerate(segments(text))]
    foreign = [g for g in guesses if g and g != "en"]
    if foreign:
        first = foreign[0]
        return first if all(g == first for g in foreign) else None
    if "en" in guesses:
        return "en"
    return None


# ------------------------------------------------------------------ akas

#: Region (ISO 3166-1 alpha-2, as in title.akas) -> its main language. Regions with two or more
#: main languages (BE, CH, CA, ...) are left out: their rows say nothing about the language.
REGION_LANGUAGE: dict[str, str] = {
    "US": "en", "GB": "en", "AU": "en", "NZ": "en", "IE": "en",
    "JP": "ja", "KR": "ko", "KP": "ko", "CN": "zh", "TW": "zh", "HK": "zh",
    "IN": "hi", "PK": "ur", "BD": "bn", "LK": "si",
    "FR": "fr", "DE": "de", "AT": "de", "IT": "it", "ES": "es", "MX": "es", "AR": "es",
    "CL": "es", "CO": "es", "PE": "es", "VE": "es", "UY": "es", "CU": "es",
    "PT": "pt", "BR": "pt", "NL": "nl", "SE": "sv", "DK": "da", "NO": "no", "FI": "fi",
    "IS": "is", "PL": "pl", "CZ": "cs", "SK": "sk", "HU": "hu", "RO": "ro", "BG": "bg",
    "GR": "el", "TR": "tr", "RU": "ru", "SU": "ru", "UA": "uk", "RS": "sr", "HR": "hr",
    "SI": "sl", "EE": "et", "LV": "lv", "LT": "lt", "IL": "he", "IR": "fa", "EG": "ar",
    "SA": "ar", "LB": "ar", "TH": "th", "VN": "vi", "ID": "id", "PH": "tl", "MY": "ms",
}  # fmt: skip
#: Languages of India's other cinemas: a title in their script keeps its language over IN -> hi.
_INDIAN = frozenset({"hi", "ta", "te", "kn", "ml", "bn", "mr", "pa", "gu"})


def akas_language(regions: Iterable[str], languages: Iterable[str] = ()) -> tuple[str | None, str | None]:
    """``(language, region)`` from the akas rows that carry a title's original title: their
    regions and their ``language`` values (``\\N`` already dropped).

    A language value wins (``["ja"]`` -> ja); otherwise the regions' main languages: one
    non-English language wins over English-speaking regions (a foreign film often keeps its
    title in the US and GB), except Hindi (India releases English films under their English
    title: ``IN`` with ``US`` says nothing); English-speaking regions with two or more other
    languages give English (a title many countries kept unchanged); two or more non-English
    languages alone give None. The region is returned when exactly one region has the chosen
    language.

    ``akas_language(["JP", "US"])`` -> ``("ja", "JP")``; ``akas_language(["US", "GB"])`` ->
    ``("en", None)``; ``akas_language(["FR", "DE"])`` -> ``(None, None)``.
    """
    regions = sorted({r.upper() for r in regions if r})
    langs = sorted({lang.lower() for lang in languages if lang})
    by_region = {r: REGION_LANGUAGE[r] for r in regions if r in REGION_LANGUAGE}
    language: str | None = None
    if len(langs) == 1:
        language = langs[0]
    elif not langs:
        spoken = set(by_region.values())
        foreign = spoken - {"en"}
        english = "en" in spoken
        if len(foreign) == 1 and not (english and foreign == {"hi"}):
            language = next(iter(foreign))
        elif english and (not foreign or len(foreign) >= 2):
            language = "en"
    if language is None:
        return None, None
    matching = [r for r, lang in by_region.items() if lang == language]
    return language, (matching[0] if len(matching) == 1 else None)


def infer(
    primary: str | None,
    original: str | None,
    akas_regions: Sequence[str] | None = None,
    akas_languages: Sequence[str] | None = None,
) -> tuple[str | None, str | None]:
    """``(language, region)`` of one title from all the evidence (see the module docstring).

    ``infer("Spirited Away", "Sen to Chihiro no kamikakushi")`` -> ``("ja", None)``;
    with ``akas_regions=["JP"]`` -> ``("ja", "JP")``.
    """
    from_title = title_language(primary, original)
    text = original or primary or ""
    script = script_language(text)
    akas_lang, akas_region = akas_language(akas_regions or (), akas_languages or ())
    if akas_lang == "hi" and from_title in _INDIAN:
        akas_lang = from_title  # IN -> hi, unless the script says Tamil, Telugu, ...
        akas_region = "IN"
    language: str | None
    if script:
        language = script
    elif from_title and from_title != "en":
        language = from_title
    elif akas_lang:
        language = akas_lang
    else:
        language = from_title
    region = akas_region if akas_lang == language else None
    return language, region
