"""What an operator needs to run EventOps: demo data, process files, server configuration."""
