"""Codified enforcement items (执法事项): the item document as models, its conditions, the store and the loader."""
