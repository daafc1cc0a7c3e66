"""The labelled synthetic call corpus in corpus/: generator, clip store, assembly, labels, checks.

Run as `python -m scripts.corpus COMMAND` from the repository root (see __main__.py and
corpus/README.md).
"""
