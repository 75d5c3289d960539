"""Resume-versus-job-listing analyzers and the result type they all produce."""
