from alliance.language import detect_language, tokenize


def test_chinese_gets_jieba_words_and_character_bigrams():
    tokens = tokenize("联盟在成都成立")
    assert "联盟" in tokens and "成都" in tokens  # jieba words
    assert "都成" in tokens  # a bigram across word boundaries


def test_paraphrases_share_bigrams():
    assert set(tokenize("网课")) & set(tokenize("网课学习"))
    assert "成立" in tokenize("联盟是什么时候成立的")


def test_english_is_lowercased_words():
    assert tokenize("Credit Bank, RTVU's 2020!") == ["credit", "bank", "rtvu's", "2020"]


def test_mixed_text_keeps_both():
    tokens = tokenize("SC-101 终身学习导论")
    assert "sc-101" in tokens and "终身" in tokens


def test_hostile_text_does_not_break_tokenizer():
    assert tokenize("\u200b\u202e<b>\x00\x07") == ["b"]
    assert tokenize("") == []


def test_detect_language():
    assert detect_language("联盟是什么时候成立的？") == "zh"
    assert detect_language("When was the alliance established?") == "en"
    assert detect_language("SC-101 是什么课程") == "zh"
    assert detect_language("") == "en"
