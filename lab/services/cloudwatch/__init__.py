"""CloudWatch, where the lab checks more than the backend: the metric queries' periods and sizes."""
