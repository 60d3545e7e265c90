"""The action server: one module per flow. `rasa run actions --actions bot.actions`
imports every submodule, which registers its actions."""
