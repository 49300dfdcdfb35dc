"""Reading CFDI (Mexican electronic invoices, versions 3.3 and 4.0) with satcfdi, the maintained library for them.

satcfdi parses offline (it ships the SAT's schemas and catalogues) and returns typed values (Decimal totals, datetimes),
so the portal does not restate the SAT's namespaces and attribute names. Its signature checks need the SAT's
certificates and the network, so they are not used: the folio fiscal (UUID of the TimbreFiscalDigital) is what makes
an invoice unique, and what duplicate detection needs. `build()` writes synthetic, clearly fictitious CFDI for the
demo data and the tests.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models.common import validate_rfc

MAX_BYTES = 2 * 1024 * 1024  # a CFDI is a few kilobytes; even one with thousands of concepts stays under this
NAMESPACES = {"3.3": b"http://www.sat.gob.mx/cfd/3", "4.0": b"http://www.sat.gob.mx/cfd/4"}
NOT_A_CFDI = _("El archivo no es un CFDI timbrado (XML de factura electrónica 3.3 o 4.0 con folio fiscal).")


@dataclass
class Invoice:
    uuid: str
    version: str
    issuer_rfc: str
    issuer_name: str
    receiver_rfc: str
    issued_on: date
    total: Decimal
    currency: str
    serie: str
    folio: str


def parse(data):
    """The fields the portal keeps from a stamped CFDI, or a ValidationError in Spanish (never another exception)."""
    from satcfdi.cfdi import CFDI

    if not data:
        raise ValidationError(_("El archivo está vacío."), code="empty")
    if len(data) > MAX_BYTES:
        raise ValidationError(_("El archivo pesa más de 2 MB; un CFDI pesa unos cuantos kilobytes."), code="too_big")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ValidationError(NOT_A_CFDI, code="not_cfdi")  # a CFDI never declares entities; refuse XML bombs
    if not any(namespace in data for namespace in NAMESPACES.values()):
        raise ValidationError(NOT_A_CFDI, code="not_cfdi")
    try:
        cfdi = CFDI.from_string(data)
        stamp = (cfdi.get("Complemento") or {}).get("TimbreFiscalDigital") or {}
        if isinstance(stamp, list):
            stamp = stamp[0]
        uuid = str(stamp.get("UUID") or "").upper()
        version = str(cfdi.get("Version") or "")
        currency = cfdi.get("Moneda") or "MXN"
        invoice = Invoice(
            uuid=uuid,
            version=version,
            issuer_rfc=str(cfdi["Emisor"]["Rfc"]).upper(),
            issuer_name=str(cfdi["Emisor"].get("Nombre") or "")[:250],
            receiver_rfc=str(cfdi["Receptor"]["Rfc"]).upper(),
            issued_on=cfdi["Fecha"].date(),
            total=Decimal(cfdi["Total"]),
            currency=str(getattr(currency, "code", currency))[:3],
            serie=str(cfdi.get("Serie") or "")[:25],
            folio=str(cfdi.get("Folio") or "")[:40],
        )
    except Exception as error:  # satcfdi raises whatever lxml or its own parsing raises on a malformed file
        raise ValidationError(NOT_A_CFDI, code="not_cfdi") from error
    if version not in NAMESPACES:
        raise ValidationError(_("Solo se aceptan CFDI versión 3.3 o 4.0."), code="version")
    if len(uuid) != 36:
        raise ValidationError(
            _("El CFDI no está timbrado: falta el folio fiscal (UUID del TimbreFiscalDigital)."), code="not_stamped"
        )
    if invoice.total <= 0:
        raise ValidationError(_("El total del CFDI debe ser mayor que cero."), code="total")
    for label, value in ((_("emisor"), invoice.issuer_rfc), (_("receptor"), invoice.receiver_rfc)):
        try:
            validate_rfc(value)
        except ValidationError as error:
            raise ValidationError(
                _("RFC del %(who)s: %(error)s") % {"who": label, "error": error.messages[0]}, code="invalid_rfc"
            ) from None
    return invoice


def build(uuid, issuer_rfc, receiver_rfc, issued_on, total, serie="", folio="", version="4.0", issuer_name=""):
    """A synthetic stamped CFDI (no real seals) that `parse` accepts: for the demo data and the tests."""
    try:
        total = Decimal(total).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError(total) from None
    subtotal = (total / Decimal("1.16")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    namespace = NAMESPACES[version].decode()
    numbering = (f' Serie="{serie}"' if serie else "") + (f' Folio="{folio}"' if folio else "")
    if version == "4.0":
        receiver = f'Rfc="{receiver_rfc}" Nombre="FIDEICOMISO DE EJEMPLO" DomicilioFiscalReceptor="31000" '
        receiver += 'RegimenFiscalReceptor="603" UsoCFDI="G03"'
        extra, concept_extra = ' Exportacion="01"', ' ObjetoImp="01"'
    else:
        receiver, extra, concept_extra = f'Rfc="{receiver_rfc}" UsoCFDI="G03"', "", ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<cfdi:Comprobante xmlns:cfdi="{namespace}" xmlns:tfd="http://www.sat.gob.mx/TimbreFiscalDigital" '
        f'Version="{version}"{numbering} Fecha="{issued_on.isoformat()}T10:00:00" SubTotal="{subtotal}" '
        f'Moneda="MXN" Total="{total}" TipoDeComprobante="I"{extra} LugarExpedicion="31000" '
        f'Sello="EJEMPLO" NoCertificado="00001000000500000000" Certificado="EJEMPLO">\n'
        f'  <cfdi:Emisor Rfc="{issuer_rfc}" Nombre="{issuer_name or "EMISOR FICTICIO"}" RegimenFiscal="603"/>\n'
        f"  <cfdi:Receptor {receiver}/>\n"
        f'  <cfdi:Conceptos><cfdi:Concepto ClaveProdServ="80141600" Cantidad="1" ClaveUnidad="E48" '
        f'Descripcion="Servicio ficticio de ejemplo" ValorUnitario="{subtotal}" Importe="{subtotal}"{concept_extra}/>'
        f"</cfdi:Conceptos>\n"
        f'  <cfdi:Complemento><tfd:TimbreFiscalDigital Version="1.1" UUID="{uuid}" '
        f'FechaTimbrado="{issued_on.isoformat()}T10:05:00" RfcProvCertif="SAT970701NN3" SelloCFD="EJEMPLO" '
        f'NoCertificadoSAT="00001000000500000000" SelloSAT="EJEMPLO"/></cfdi:Complemento>\n'
        f"</cfdi:Comprobante>\n"
    ).encode()
