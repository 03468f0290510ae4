"""Canned replies: ready-made public messages per language, edited by admins."""
from __future__ import annotations

from sqlmodel import Session, select

from .. import audit
from ..models import CannedReply

#: (key, language, title, body): seeded once so a new desk is not empty
DEFAULTS = [
    ("receipt_unreadable", "en", "Receipt unreadable",
     "We could not read your purchase receipt. Please upload a sharper photo or a PDF where the shop, the date and the device are readable."),
    ("receipt_unreadable", "ru", "Чек не читается",
     "Мы не смогли прочитать ваш чек. Пожалуйста, загрузите более чёткое фото или PDF, где видны магазин, дата и устройство."),
    ("receipt_unreadable", "it", "Scontrino illeggibile",
     "Non siamo riusciti a leggere lo scontrino. Carica una foto più nitida o un PDF in cui si leggano negozio, data e dispositivo."),
    ("box_label", "en", "Box photo must show the IMEI label",
     "Please send a photo of the box where the white label with the IMEI barcodes is fully visible."),
    ("box_label", "ru", "На фото коробки должна быть наклейка с IMEI",
     "Пожалуйста, пришлите фото коробки, на котором полностью видна белая наклейка со штрихкодами IMEI."),
    ("box_label", "it", "La foto della scatola deve mostrare l'etichetta IMEI",
     "Invia una foto della scatola in cui sia ben visibile l'etichetta bianca con i codici a barre IMEI."),
    ("still_checking", "en", "We are still checking",
     "Thank you. We have everything we need and are checking your case. We will write again soon."),
    ("still_checking", "ru", "Мы ещё проверяем",
     "Спасибо. У нас есть всё необходимое, мы проверяем ваше обращение и скоро напишем снова."),
    ("still_checking", "it", "Stiamo ancora verificando",
     "Grazie. Abbiamo tutto il necessario e stiamo verificando la tua richiesta. Ti scriveremo presto."),
]


def for_language(session: Session, language: str) -> list[CannedReply]:
    return list(session.exec(select(CannedReply).where(CannedReply.language == language).order_by(CannedReply.key)))


def all_replies(session: Session) -> list[CannedReply]:
    return list(session.exec(select(CannedReply).order_by(CannedReply.key, CannedReply.language)))


def seed_defaults(session: Session) -> int:
    """Add the default replies that are missing; returns how many were added."""
    have = {(reply.key, reply.language) for reply in all_replies(session)}
    added = 0
    for key, language, title, body in DEFAULTS:
        if (key, language) not in have:
            session.add(CannedReply(key=key, language=language, title=title, body=body))
            added += 1
    session.flush()
    return added


def save(session: Session, *, reply_id: int | None, key: str, language: str, title: str, body: str,
         actor: audit.Actor, origin: audit.Origin | None = None) -> CannedReply:
    """Create or update a reply (unique per key and language); audited. ValueError on a clash."""
    clash = session.exec(select(CannedReply).where(CannedReply.key == key, CannedReply.language == language)).first()
    if clash is not None and clash.id != reply_id:
        raise ValueError("a reply with this key already exists in this language")
    reply = session.get(CannedReply, reply_id) if reply_id else CannedReply(key=key, language=language, title="", body="")
    if reply is None:
        raise LookupError(reply_id)
    before = {"title": reply.title, "body": reply.body} if reply_id else None
    reply.key, reply.language, reply.title, reply.body = key, language, title, body
    session.add(reply)
    session.flush()
    audit.record(session, actor=actor, action="canned_reply.saved", subject=("canned_reply", reply.id),
                 before=before, after={"key": key, "language": language, "title": title}, origin=origin)
    return reply


def delete(session: Session, reply: CannedReply, *, actor: audit.Actor, origin: audit.Origin | None = None) -> None:
    audit.record(session, actor=actor, action="canned_reply.deleted", subject=("canned_reply", reply.id),
                 before={"key": reply.key, "language": reply.language, "title": reply.title}, origin=origin)
    session.delete(reply)
    session.flush()
