"""The environment variables a service reads, from its settings class."""

from __future__ import annotations

from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from captionist_core.settings import CaptionistSettings


def environment_names(settings: type[BaseSettings]) -> set[str]:
    """Every environment variable a pydantic-settings class reads."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for name, field in settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {str(choice).upper() for choice in alias.choices}
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{name}".upper())
    return names | (
        environment_names(CaptionistSettings) if settings is not CaptionistSettings else set()
    )
