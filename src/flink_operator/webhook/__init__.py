"""The admission webhook server: /validate and /mutate over AdmissionReview v1."""
