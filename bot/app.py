"""The wiring point: the only place that builds settings-driven objects. Nothing is built at import time."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from actions.context import ServiceTerms
from bot.conversation.engine import Conversation
from bot.conversation.turns import TurnStoreFactory
from bot.mail import MailSender
from bot.settings import Settings
from nlu.engines.embedded import EmbeddedEngine, ProgressCallback, load_or_train
from nlu.engines.semantic import SemanticIntents
from nlu.result import NluEngine
from nlu.training_data import load_training_data
from policy.answers import PolicyAnswerer
from policy.document import load_policy
from policy.encoder import E5Encoder, SentenceEncoder
from policy.organisation import organisation_name
from policy.relevance import load_or_train_relevance
from policy.search import PolicyIndex
from policy.semantic import SemanticIndex
from policy.versions import PolicyText, policy_text
from responses import Responses

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Core:
    """What every channel shares: understanding, the policy, the templates and the service terms."""

    settings: Settings
    embedded: EmbeddedEngine
    answerer: PolicyAnswerer
    responses: Responses
    terms: ServiceTerms
    policy: PolicyText  # the text answers are quoted from, as a version (``policy.versions``)

    def conversation(self, stores: TurnStoreFactory, nlu: NluEngine | None = None) -> Conversation:
        """A conversation service over ``stores`` (and another engine, if given)."""
        return Conversation(
            nlu=nlu or self.embedded,
            answerer=self.answerer,
            responses=self.responses,
            stores=stores,
            terms=self.terms,
            policy_version=self.policy.id,
        )


def build_mail_sender(settings: Settings) -> MailSender:
    """SMTP when a server is configured; otherwise a spool folder under the data directory, so that the
    assistant still works end to end on a developer's machine."""
    # Imported here: `privacybot ask` never mails, and its cold start should not pay for SMTP.
    from bot.mail.smtp import SmtpMailSender
    from bot.mail.spool import SpoolMailSender

    if settings.smtp_host:
        return SmtpMailSender.from_settings(settings)
    spool = settings.data_dir / "mail-spool"
    log.warning(
        "PRIVACYBOT_SMTP_HOST is not set: mail (identity codes, officer notices) is written to %s", spool
    )
    return SpoolMailSender(spool)


def build_core(
    settings: Settings,
    *,
    progress: ProgressCallback | None = None,
    encoder: SentenceEncoder | None = None,
) -> Core:
    """Load the policy and the NLU model (training it if the data changed) and the templates.
    ``encoder`` replaces the default sentence encoder (bench/encoders.py compares candidates)."""
    model = load_or_train(settings.model_dir, progress=progress)
    profiles = {intent.value: p for intent, p in model.profiles.items() if intent.is_policy_question}
    document = load_policy(settings.policy)
    index = PolicyIndex(document)
    if settings.semantic:
        # Vectors of the passages and training questions are cached beside the models: only new
        # texts are embedded (seconds), and the encoder itself loads on the first message that needs it.
        encoder = encoder or E5Encoder()
        examples = [(e.text, e.intent) for e in load_training_data().examples]
        intents = SemanticIntents(examples, encoder, cache_dir=settings.model_dir)
        semantic = SemanticIndex(index.passages, encoder, cache_dir=settings.model_dir)
        relevance = load_or_train_relevance(settings.model_dir, encoder)
        answerer = PolicyAnswerer(index, profiles, semantic, relevance)
        engine = EmbeddedEngine(model, intents)
    else:
        answerer = PolicyAnswerer(index, profiles)
        engine = EmbeddedEngine(model)
    organisation = settings.organisation or organisation_name(document)
    terms = ServiceTerms(
        first_response_hours=settings.first_response_hours,
        resolution_days=settings.resolution_days,
        officer_email=settings.officer_email,
    )
    policy = policy_text(settings.policy.read_text(encoding="utf-8-sig"))
    return Core(settings, engine, answerer, Responses(organisation=organisation), terms, policy)
