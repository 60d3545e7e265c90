"""Custom Rasa graph components: language detection, shop-aware jieba, spaCy entity matcher."""
