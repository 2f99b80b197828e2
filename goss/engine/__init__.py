"""
Around training and evaluation: checks, resume, the predictor, calibration, the experiment report.
"""
