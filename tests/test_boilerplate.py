"""Tests of the rule-based boilerplate pass (crawler.boilerplate)."""

from __future__ import annotations

import pytest

from crawler.boilerplate import Block, clean_blocks, is_boilerplate_line, is_chrome_line, normalise_line


def _texts(blocks: list[Block]) -> list[str]:
    return [b.text for b in blocks]


@pytest.mark.parametrize(
    "line",
    [
        "Latest Videos",
        "Share this article",
        "click me!",
        "यह भी पढ़ें- ED को मनीष सिसोदिया का 5 दिनों का रिमांड",
        "ये भी पढ़ें: कांग्रेस का संसद में धरना",
        "Also read: Council approves the park",
        "READ MORE | Storm warning for the coast",
        "Follow us on Twitter",
        "Follow The Harbour Courier on Google News and add us as a preferred source in your feeds.",
        "Lesen Sie auch: Neue Straßenbahnlinie",
        "Lire aussi - La fermeture de l'usine",
        "Читайте также: Ремонт моста",
        "اقرأ أيضا: توسعة الميناء",
        "Baca juga: Banjir di Jakarta",
        "  Share  this\u00ad article  ",
        "Ich bin damit einverstanden, dass mir externe Inhalte angezeigt werden. Damit können Daten übermittelt werden.",
        "Thank you for visiting example.com. You are using a browser version with limited support for CSS.",
        "Wie hat Ihnen dieser Artikel gefallen?",
        "This copy is for your personal, non-commercial use only. To order copies visit the reprints desk.",
        "Tell us what YOU think...",
        "Partner news",
        "Fehler gefunden? Jetzt melden.",
        "Like this story? Share it with a friend!",
        "Additional reporting from PA",
        "Filed under: Politics | Harbour",
    ],
)
def test_boilerplate_lines_and_prefixes(line: str) -> None:
    assert is_boilerplate_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "Read more books, the minister said, and you will understand the problem.",
        "Also reading the report, the council found several errors in the budget.",
        "He said the video was shared on social media thousands of times.",
        "कांग्रेस को तय करना होगा अपना रोल",
        "Follow-up checks are planned for next year.",
        "Follow the money on the ledger and you will find the councillor behind the deal.",
    ],
)
def test_article_sentences_with_the_same_words_stay(line: str) -> None:
    assert not is_boilerplate_line(line)


def test_extra_lines_and_prefixes() -> None:
    assert not is_boilerplate_line("Get the Courier app")
    assert is_boilerplate_line("Get the Courier app!", frozenset({normalise_line("get the courier app")}))
    assert is_boilerplate_line("Sponsored by ACME: buy now", extra_prefixes=("sponsored by acme",))


@pytest.mark.parametrize(
    ("line", "chrome"),
    [
        ("18.05.2026", True),
        ("Published 18 November 2019", True),
        ("Updated 3 hours ago", True),
        ("Von Karim Natour", True),
        ("By John Smith and Jane Doe", True),
        ("Photo: AFP", True),
        ("© The Financial Times Ltd. 2024", True),
        ("Write to Al Root at allen.root@example.com", True),
        ("Uppdaterad 15.59 | Publicerad 14.14", True),
        ("Dieses Thema im Programm: Das Radio | Nachrichten | 28. April 2023 | 10:00 Uhr", True),
        ("| DL | Larry Ogunjobi | 63 | 85% | 1 tackle |", False),
        ("https://www.example.com/articles/home-depot-stock-51574168486", True),
        ("Von Montag an gilt die neue Regel", False),
        ("By the end of the year, prices rose.", False),
        ("In 2019 the council approved the plan for the park.", False),
        ("Ausgabe vom 26.04.2024, Seite 1", True),
        ("- showPaywall:", True),
        ("false", True),
        (
            '[button link="/submit-review/" type="big"] Send us your review of the kit you tested[/button]',
            True,
        ),
        ("Nizaar Kinsella2 minutes ago", True),
        ("Dylan Jones 5 hours ago", True),
        ("The ferry left the harbour for the last time exactly 5 days ago", False),
        ("___", True),
        ("Keith Bradsher contributed reporting from Hong Kong.", True),
        ("- watchOS", False),
        ("iPhone", False),
    ],
)
def test_chrome_lines(line: str, chrome: bool) -> None:
    assert is_chrome_line(line) is chrome


def test_clean_blocks_drops_whole_lines_only() -> None:
    blocks = [
        Block("The council approved the riverside park on Tuesday."),
        Block("Share this article"),
        Block("Readers can share this article with friends, the editor said."),
        Block("यह भी पढ़ें- कांग्रेस का संसद में धरना", link_chars=30),
        Block("The works start in spring."),
    ]
    assert _texts(clean_blocks(blocks)) == [
        "The council approved the riverside park on Tuesday.",
        "Readers can share this article with friends, the editor said.",
        "The works start in spring.",
    ]


def test_lines_mostly_links_and_teaser_lists_go() -> None:
    blocks = [
        Block("First paragraph of the story with enough words to count."),
        Block("Council approves £4.2m riverside park", link_chars=37),
        Block("A list item that is article text about the plan.", kind="item", group=1),
        Block("Another real list item of the article.", kind="item", group=1),
        Block("Teaser one headline", kind="item", link_chars=19, group=2),
        Block("Teaser two headline", kind="item", link_chars=19, group=2),
        Block("Teaser three headline", kind="item", link_chars=21, group=2),
        Block("A sentence with one link in it stays in the article body.", link_chars=8),
    ]
    assert _texts(clean_blocks(blocks)) == [
        "First paragraph of the story with enough words to count.",
        "A list item that is article text about the plan.",
        "Another real list item of the article.",
        "A sentence with one link in it stays in the article body.",
    ]


def test_video_list_after_marker_goes_but_following_text_stays() -> None:
    blocks = [
        Block("The body paragraph before the videos."),
        Block("Latest Videos", kind="head"),
        Block("LIVE: press conference at the party office", link_chars=42),
        Block("Hanuman Ashtami: nine small mantras", link_chars=35),
        Block("कांग्रेस को तय करना होगा अपना रोल", kind="head"),
        Block("The next paragraph of the article."),
    ]
    assert _texts(clean_blocks(blocks)) == [
        "The body paragraph before the videos.",
        "कांग्रेस को तय करना होगा अपना रोल",
        "The next paragraph of the article.",
    ]


def test_site_lines_are_removed_as_whole_lines() -> None:
    blocks = [
        Block("Support local journalism today"),
        Block("We support local journalism today, the editor wrote in her column."),
    ]
    kept = clean_blocks(blocks, site_lines=["Support local journalism today"])
    assert _texts(kept) == ["We support local journalism today, the editor wrote in her column."]


def test_signup_widget_goes_but_a_lone_mention_stays() -> None:
    story = [
        Block(f"Paragraph {i} of the story about the harbour works and what they cost.") for i in range(3)
    ]
    widget = [
        Block("Pick Six Newsletter", kind="head"),
        Block("Get the day's big stories in your inbox."),
        Block("Thanks for signing up!"),
        Block("Sorry!"),
        Block("There was an error processing your subscription."),
    ]
    lone = Block("Readers can subscribe to the council's alerts by text message.")
    kept = clean_blocks([story[0], lone, story[1], *widget, story[2]])
    assert _texts(kept) == [story[0].text, lone.text, story[1].text, story[2].text]


def test_one_short_line_with_two_promo_words_goes() -> None:
    story = [
        Block(f"Paragraph {i} of the story about the harbour works and what they cost.") for i in range(3)
    ]
    promo = Block("Log in or create an account to continue reading")
    lone = Block("Readers can subscribe to the council's alerts by text message.")
    kept = clean_blocks([story[0], lone, story[1], promo, story[2]])
    assert _texts(kept) == [story[0].text, lone.text, story[1].text, story[2].text]


def test_japanese_paywall_widget_goes() -> None:
    story = [Block(f"気象庁は{i}日、震度5弱の地震があったと発表した。津波注意報も出した。") for i in range(3)]
    widget = [
        Block("有料会員になると会員限定の有料記事もお読みいただけます。"),
        Block("【キャンペーン】有料記事読み放題！今なら2カ月間月額100円！詳しくはこちら"),
    ]
    assert _texts(clean_blocks([*story, *widget])) == [b.text for b in story]


def test_late_end_marker_ends_the_article_but_an_early_one_does_not() -> None:
    body = [
        Block(f"Paragraph {i} of the article, long enough to weigh in the total text length.")
        for i in range(6)
    ]
    late = [
        *body,
        Block("Related articles", kind="head"),
        Block("A teaser paragraph about another story entirely."),
    ]
    assert _texts(clean_blocks(late)) == _texts(body)
    early = [body[0], Block("Comments", kind="head"), *body[1:]]
    assert _texts(clean_blocks(early)) == _texts(body)
