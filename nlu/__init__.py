"""Natural-language understanding: Rasa-format training data, engines and evaluation."""
