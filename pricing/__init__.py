"""The price catalog: genai-prices' bundled data, our name overlays, and exact cost functions over workloads."""
