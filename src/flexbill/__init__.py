"""flexbill: self-hosted subscription commerce behind the APIs its clients already speak."""

__version__ = "0.1.0"
