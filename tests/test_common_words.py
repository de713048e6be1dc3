"""How much a word says, from general word frequencies (no word list in the code)."""

import pytest

from alliance.index_format import Glossary
from bot.engine.common_words import informativeness, rarity
from bot.engine.evidence import Evidence


@pytest.mark.parametrize(
    ("everyday", "specific"),
    [("people", "scholarship"), ("something", "dormitory"), ("自己", "奖学金"), ("大家", "成绩单")],
)
def test_everyday_words_say_less_than_the_specific_thing_asked_for(everyday, specific):
    assert rarity(everyday) < rarity(specific)
    assert informativeness(everyday) < informativeness(specific)


def test_weights_stay_between_the_floor_and_one():
    for word in ("the", "what", "的", "是", "keep", "credit", "学分", "chatbot", "样稿"):
        assert 0.2 <= informativeness(word) <= 1.0, word
    assert informativeness("the") == 0.2


def test_a_chinese_word_the_dictionary_lacks_says_as_much_as_its_rarest_character():
    # "这版" ("this edition") is two everyday characters; the dictionary does not list it.
    assert rarity("这版") == max(rarity("这"), rarity("版"))
    assert informativeness("这版") < 1.0


def test_numbers_and_codes_always_count_in_full():
    assert informativeness("60") == informativeness("cq-210") == informativeness("2020年") == 1.0


def test_a_word_no_list_knows_is_rarest():
    assert informativeness("zzqxv") == 1.0


def test_support_misses_an_everyday_word_less_than_the_specific_thing():
    evidence = Evidence(lambda word: 1.0, Glossary())
    text = "Credit recognition is free of charge for learners of member units."
    padded = evidence.concepts("people keep asking: is credit recognition free")
    specific = evidence.concepts("scholarship dormitory: is credit recognition free")
    assert evidence.support(padded, text) > 0.7 > evidence.support(specific, text)
