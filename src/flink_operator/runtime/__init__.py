"""Generic controller machinery (informers, work queue, leader election, status writer, event recorder).
It knows nothing about Flink."""
