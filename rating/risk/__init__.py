"""Aggregate loss and limits: Panjer recursion, FFT and simulation, risk measures, limited
expected values and increased-limit factors."""
