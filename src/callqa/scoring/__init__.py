"""Scorecard and scores: check results in, a 0-100 score and flags out."""
