"""Calibration from loss experience: frequency and severity models, credibility,
indicated rates (issue 5)."""
