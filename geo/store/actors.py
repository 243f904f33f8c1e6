"""Who acts: a user's name, role and districts; what each role may see and do.

Roles: ``admin`` (everything, accounts, approvals), ``planner`` (the city bureau: every district,
applications through city review), ``analyst`` (reads every district, ranks and exports; changes
no application) and ``district`` (a district office: only its own districts, everywhere). The
filter is applied where the data is read (:func:`Actor.check_district`, :func:`Actor.visible`),
never by hiding a widget.
"""

from __future__ import annotations

from dataclasses import dataclass

from geo.errors import Message, data_error

ROLES = ("admin", "planner", "analyst", "district")
LOCAL_USER = "local"


def role_words(role: str) -> Message:
    """A role said in words in any language (管理员 / administrator …); an unknown code as it is."""
    return Message(f"role_word_{role}") if role in ROLES else Message("as_given", text=str(role))


def roles_words(roles) -> Message:
    """Several roles said as one list in any language (管理员、市局规划人员 / administrator, planner …)."""
    words = [role_words(role) for role in roles]
    if len(words) == 1:
        return words[0]
    return Message(f"role_list_{len(words)}", **{f"r{i}": word for i, word in enumerate(words)})


@dataclass(frozen=True)
class Actor:
    """A user acting now. ``districts`` matters only for ``role == "district"``."""

    username: str
    role: str
    districts: tuple[str, ...] = ()

    @classmethod
    def local(cls) -> Actor:
        """The single user of a store with no account (``make run`` on a laptop): an administrator."""
        return cls(LOCAL_USER, "admin")

    @property
    def all_districts(self) -> bool:
        return self.role != "district"

    def may_see(self, district_code: str) -> bool:
        return self.all_districts or str(district_code) in self.districts

    def check_district(self, district_code: str) -> None:
        """Refuse (DataError ``not_your_district``) a district this actor may not see or change."""
        if not self.may_see(district_code):
            raise data_error("not_your_district", user=self.username, district=str(district_code))

    def check_role(self, *roles: str) -> None:
        """Refuse (DataError ``role_not_allowed``) unless this actor has one of ``roles``."""
        if self.role not in roles:
            raise data_error(
                "role_not_allowed", user=self.username, role=role_words(self.role), roles=roles_words(roles)
            )
