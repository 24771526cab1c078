"""SecureCart DR Lab: a local two-region AWS sandbox for backup, replication and disaster-recovery training."""

__version__ = "0.1.0"
