"""The catalog: products, their variants and variant pricing per contract length."""
