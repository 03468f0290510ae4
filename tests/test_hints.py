"""Partial hints: the matching rules of support/hints.py, hostile fragments included."""
import pytest

from support.hints import Match, account_id, email, phone

FULL, PARTIAL, NOT_ENOUGH, CONTRADICTS = Match.full, Match.partial, Match.not_enough, Match.contradicts
PHONE = "+79161234567"


@pytest.mark.parametrize("hint, expected", [
    # the whole number, however it is written
    ("+79161234567", FULL), ("+7 (916) 123-45-67", FULL), ("+7.916.123.45.67", FULL), ("00 7 916 123 45 67", FULL),
    ("916 123 45 67", FULL), ("79161234567", FULL), ("8 (916) 123-45-67", FULL), ("\u00a0+7 916 123 45 67 ", FULL),
    ("+７ ９１６ １２３ ４５ ６７", FULL),
    # fragments and masks
    ("+7 916 *** 45 67", PARTIAL), ("+7 916 • 45 67", PARTIAL), ("+7 916 xxx-xx-67", PARTIAL),
    ("+7 916 XXX 45 67", PARTIAL), ("+7 916 ××× 45 67", PARTIAL), ("+7 916 ??? 45 67", PARTIAL),
    ("+7 916 ●●● ●● 67", PARTIAL), ("+7 916 1** ** 67", PARTIAL), ("4567", PARTIAL), ("***4567", PARTIAL),
    ("•••-••-45-67", PARTIAL), ("45-67", PARTIAL), ("123 45 67", PARTIAL), ("916 1** ****", PARTIAL), ("916 ***", NOT_ENOUGH),
    ("8 916 *** 45 67", PARTIAL), ("+*******4567", PARTIAL), ("*1234*", PARTIAL), ("x" * 7 + "4567", PARTIAL),
    # too little to tell, never a pass nor a fail
    ("***", NOT_ENOUGH), ("*", NOT_ENOUGH), ("+", NOT_ENOUGH), ("", NOT_ENOUGH), ("  ", NOT_ENOUGH),
    ("--()", NOT_ENOUGH), ("567", NOT_ENOUGH), ("67", NOT_ENOUGH), ("+7 ***", NOT_ENOUGH), ("+7 916 *", NOT_ENOUGH),
    ("+7916", NOT_ENOUGH), ("8 916 *", NOT_ENOUGH), ("+***", NOT_ENOUGH), ("x", NOT_ENOUGH), ("xxxxxxxxxxx", NOT_ENOUGH),
    ("9161234567 ext", NOT_ENOUGH), ("phone: 4567", NOT_ENOUGH), ("٤٥٦٧", NOT_ENOUGH), ("4567; DROP TABLE", NOT_ENOUGH),
    # contradictions
    ("+7 916 123 45 68", CONTRADICTS), ("+39 916 123 45 67", CONTRADICTS), ("4568", CONTRADICTS),
    ("***4568", CONTRADICTS), ("+7 916 *** 45 68", CONTRADICTS), ("+7 917 *** 45 67", CONTRADICTS),
    ("8 917 123 45 67", CONTRADICTS), ("8 4567", CONTRADICTS), ("+791612345678", CONTRADICTS),
    ("1791612345670", CONTRADICTS), ("+7 *** 4566", CONTRADICTS),
])
def test_phone_hints(hint, expected):
    assert phone(hint, PHONE) is expected


@pytest.mark.parametrize("hint, number, expected", [
    ("+39 333 0000000", "+393331234567", CONTRADICTS),
    ("333 1234567", "+393331234567", FULL),       # Italy: two-digit country code, no trunk prefix
    ("1234567", "+393331234567", PARTIAL),        # the end of the number, not all of it
    ("06 1234567", "+39061234567", FULL),         # a leading 0 that belongs to the number
    ("+1 (212) 555-0100", "+12125550100", FULL),
    ("212 555 0100", "+12125550100", FULL),
    ("+380 44 *** ** 99", "+380441234599", PARTIAL),  # a three-digit country code
    ("89161234567", "89161234567", FULL),         # a number the directory keeps without +
    ("+7 916 *** 45 67", "79161234567", PARTIAL),
    ("4567", None, NOT_ENOUGH),                   # the account has no phone left
    ("4567", "", NOT_ENOUGH),
])
def test_phone_hints_against_other_numbers(hint, number, expected):
    assert phone(hint, number) is expected


ADDRESS = "alice@mail.ru"


@pytest.mark.parametrize("hint, expected", [
    ("alice@mail.ru", FULL), (" Alice@Mail.RU ", FULL), ("ａｌｉｃｅ@ｍａｉｌ.ｒｕ", FULL), ("ali ce@mail.ru", FULL),
    ("a•••@mail.ru", PARTIAL), ("a***@mail.ru", PARTIAL), ("A***@MAIL.RU", PARTIAL), ("a…@mail.ru", PARTIAL),
    ("al●●●@mail.ru", PARTIAL), ("a***e@mail.ru", PARTIAL), ("*e@mail.ru", PARTIAL), ("*lic*@mail.ru", PARTIAL),
    ("a·····@mail.ru", PARTIAL),
    # a mask that matches everything, or nothing to compare
    ("***@mail.ru", NOT_ENOUGH), ("•••@mail.ru", NOT_ENOUGH), ("@mail.ru", NOT_ENOUGH), ("*@*", NOT_ENOUGH),
    ("***", NOT_ENOUGH), ("*@", NOT_ENOUGH), ("a***@", NOT_ENOUGH), ("a***@***.ru", NOT_ENOUGH),
    ("alice@m***.ru", NOT_ENOUGH), ("alice", NOT_ENOUGH), ("a@b@mail.ru", NOT_ENOUGH), ("", NOT_ENOUGH),
    # contradictions: a different domain is one whatever the rest says
    ("b***@mail.ru", CONTRADICTS), ("a***@gmail.com", CONTRADICTS), ("***@gmail.com", CONTRADICTS),
    ("alice@mail.ru.evil.test", CONTRADICTS), ("alic@mail.ru", CONTRADICTS), ("alicex@mail.ru", CONTRADICTS),
    ("a***x@mail.ru", CONTRADICTS), ("аlice@mail.ru", CONTRADICTS),  # a Cyrillic "а"
    ("alice@mail.ru\u200b", CONTRADICTS), ("x***@mail.ru", CONTRADICTS),
])
def test_email_hints(hint, expected):
    assert email(hint, ADDRESS) is expected


def test_email_hints_when_the_account_has_no_address():
    assert email("a***@mail.ru", None) is NOT_ENOUGH


@pytest.mark.parametrize("hint, expected", [
    ("12345678", FULL), (" 1234 5678 ", FULL), ("1234-5678", FULL),
    ("1234****", PARTIAL), ("1234", PARTIAL), ("****5678", PARTIAL), ("12**78", PARTIAL), ("12345xxx", PARTIAL),
    ("•••• 5678", PARTIAL), ("1*3*5*7*", PARTIAL),
    ("123", NOT_ENOUGH), ("****", NOT_ENOUGH), ("*", NOT_ENOUGH), ("+12345678", NOT_ENOUGH), ("abc", NOT_ENOUGH),
    ("ID 12345678", NOT_ENOUGH), ("", NOT_ENOUGH), ("1*2*3", NOT_ENOUGH),
    ("12345679", CONTRADICTS), ("123456789", CONTRADICTS), ("9999****", CONTRADICTS), ("****5679", CONTRADICTS),
    ("2345", CONTRADICTS), ("0012345678", CONTRADICTS),
])
def test_account_id_hints(hint, expected):
    assert account_id(hint, 12345678) is expected


def test_a_short_account_id_given_whole_is_a_full_match():
    assert account_id("42", 42) is FULL
    assert account_id("43", 42) is NOT_ENOUGH


@pytest.mark.parametrize("hint", ["*1" * 16 + "2", "1*" * 16, "*" + "1*" * 15 + "0"])
def test_fragments_built_to_backtrack_are_answered(hint):
    assert phone(hint, "+" + "1" * 20) in {CONTRADICTS, PARTIAL}
    assert account_id(hint[:32], "1" * 30) in {CONTRADICTS, PARTIAL}
    assert email(hint + "@x.test", "1" * 200 + "@x.test") in {CONTRADICTS, PARTIAL}
