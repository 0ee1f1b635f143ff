"""The buurten of Maastricht and the buurtnetwerken that serve them (reference data)."""

from __future__ import annotations

import enum

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum


class NetworkKind(enum.StrEnum):
    NETWORK = "network"  # buurtnetwerk (in ontwikkeling)
    INITIATIVE = "initiative"  # initiatiefgroep: residents orienting towards a network


network_buurten = Table(
    "network_buurten",
    Base.metadata,
    Column("network_id", ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True),
    Column("buurt_id", ForeignKey("buurten.id", ondelete="CASCADE"), primary_key=True),
)


class Buurt(Base):
    __tablename__ = "buurten"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The number in the municipality's overview (appendix 1 of "Stand van zaken", 2019).
    number: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)

    networks: Mapped[list[Network]] = relationship(
        secondary=network_buurten, back_populates="buurten", order_by="Network.name"
    )


class Network(Base):
    __tablename__ = "networks"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    # What people call it ("Belfort-Daalhof"), and the name in the statutes.
    name: Mapped[str] = mapped_column(String(120))
    legal_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[NetworkKind] = mapped_column(str_enum(NetworkKind))
    active: Mapped[bool] = mapped_column(default=True)

    buurten: Mapped[list[Buurt]] = relationship(
        secondary=network_buurten, back_populates="networks", order_by="Buurt.number"
    )
