"""Evaluation harness: the gold set through the real engine, scored as retrieval, answers,
abstention, leaks and latency. Run it with `python -m bot.eval`."""
