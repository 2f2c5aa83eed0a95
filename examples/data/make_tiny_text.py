"""Write `tiny_text.txt`: short English sentences drawn from a small grammar.

Run: python examples/data/make_tiny_text.py

The text is ours (generated here, no outside source), deterministic (a fixed seed of
Python's `random`, whose `choice` and `random` draw the same values on every Python 3),
and small: a few tens of KB of lower-case sentences, enough for a character-level
language model to learn words and word order in a minute on a CPU.
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))

ANIMALS = ["cat", "dog", "fox", "owl", "hen", "goat", "horse", "mouse", "duck", "bear"]
PEOPLE = ["farmer", "baker", "sailor", "teacher", "child", "painter", "miller", "doctor"]
ADJECTIVES = ["small", "old", "quiet", "brown", "happy", "tired", "clever", "young", "grey"]
PLACES = ["the barn", "the river", "the market", "the garden", "the hill", "the mill",
          "the village", "the forest", "the old bridge", "the kitchen"]
TIMES = ["in the morning", "at noon", "after the rain", "before supper", "at night",
         "on sunday", "every day", "in the spring"]
MOVES = ["walked to", "ran to", "went to", "came back from", "looked at", "waited by"]
ACTS = ["found", "saw", "fed", "followed", "helped", "met", "carried", "watched"]
THINGS = ["a red apple", "some bread", "a basket", "a green hat", "the lamp", "a wooden box",
          "some fish", "a warm coat", "the letter", "a bag of seeds"]
FEELINGS = ["was glad", "was sleepy", "was hungry", "smiled", "sang a song", "sat down"]


def noun_phrase(rng):
    noun = rng.choice(ANIMALS + PEOPLE)
    if rng.random() < 0.5:
        return f"the {rng.choice(ADJECTIVES)} {noun}"
    return f"the {noun}"


def clause(rng):
    kind = rng.random()
    if kind < 0.35:
        text = f"{noun_phrase(rng)} {rng.choice(MOVES)} {rng.choice(PLACES)}"
    elif kind < 0.7:
        text = f"{noun_phrase(rng)} {rng.choice(ACTS)} {rng.choice([noun_phrase(rng)] + THINGS)}"
    else:
        text = f"{noun_phrase(rng)} {rng.choice(FEELINGS)}"
    if rng.random() < 0.4:
        text += f" {rng.choice(TIMES)}"
    return text


def sentence(rng):
    text = clause(rng)
    joint = rng.random()
    if joint < 0.25:
        text += f" and {clause(rng)}"
    elif joint < 0.35:
        text += f" because {clause(rng)}"
    return text[0].upper() + text[1:] + "."


def generate(n_chars=40_000, seed=0):
    rng = random.Random(seed)
    lines, line, size = [], [], 0
    while size < n_chars:
        s = sentence(rng)
        line.append(s)
        size += len(s) + 1
        # Paragraphs of a few sentences, so newlines are part of what the model learns.
        if len(line) == 4:
            lines.append(" ".join(line))
            line = []
    if line:
        lines.append(" ".join(line))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    path = os.path.join(HERE, "tiny_text.txt")
    with open(path, "w") as f:
        f.write(generate())
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")
