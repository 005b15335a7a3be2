"""Imaging: MRI studies indexed from the stored files, checked against the
patient, rendered for staff in the browser; staff attach late images."""
