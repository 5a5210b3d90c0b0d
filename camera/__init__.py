"""Camera capture, motion, privacy and recording on OpenCV; knows nothing of Qt or the terminal."""
