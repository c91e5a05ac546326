"""Errors of outbound campaigns and dialers.

HotlineError
└── BotError
    └── CampaignError             (campaign_error)
        ├── ContactListError      (contact_list_invalid: the upload cannot be read at all)
        ├── CampaignConfigError   (campaign_config_invalid: settings or template malformed)
        ├── CampaignStateError    (campaign_state: e.g. launch a stopped campaign)
        └── DialerError           (dialer_failed, recoverable: originate/hangup refused)
"""

from __future__ import annotations

from bots.errors import BotError


class CampaignError(BotError):
    code = "campaign_error"


class ContactListError(CampaignError):
    code = "contact_list_invalid"


class CampaignConfigError(CampaignError):
    code = "campaign_config_invalid"


class CampaignStateError(CampaignError):
    code = "campaign_state"


class DialerError(CampaignError):
    code = "dialer_failed"
    recoverable = True
