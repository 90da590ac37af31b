"""Documents: generated contracts and invoice PDFs, and uploaded files, in one storage."""
