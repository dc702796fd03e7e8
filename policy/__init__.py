"""The privacy policy: parsing the text into passages and finding the passage that answers a question.

The project's copy of the ZynorLink policy lives beside this module; `PRIVACYBOT_POLICY` points elsewhere.
"""
