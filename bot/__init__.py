"""Anjia Home customer-service bot: Rasa domain, data, NLU components, actions, channels.

The Rasa server and the action server both import this package; keep its top level
free of heavy imports.
"""
