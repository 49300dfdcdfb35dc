"""Forms of the money workspace: commitments, disbursements, CFDI uploads and the published annual totals. The rules
are the models' (constraints, Commitment.disburse, ExpenseProof.record); these forms only collect the input."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AnnualReport, Commitment, Disbursement, Organization
from .models.money import CENT

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CommitmentForm(forms.ModelForm):
    class Meta:
        model = Commitment
        fields = [
            "organization",
            "amount",
            "date",
            "kind",
            "in_kind_description",
            "valuation_method",
            "agreement_reference",
        ]
        widgets = {"date": DATE}


class DisbursementForm(forms.Form):
    commitment = forms.ModelChoiceField(label=_("Compromiso"), queryset=Commitment.objects.none())
    recipient = forms.ModelChoiceField(label=_("Organización que recibe"), queryset=Organization.objects.none())
    amount = forms.DecimalField(label=_("Monto (MXN)"), max_digits=16, decimal_places=2, min_value=CENT)
    planned_date = forms.DateField(label=_("Fecha planeada"), widget=DATE)
    actual_date = forms.DateField(label=_("Fecha de pago"), required=False, widget=DATE)

    def __init__(self, project, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commitment"].queryset = project.commitments.filter(kind=Commitment.Kind.CASH).select_related(
            "organization"
        )
        self.fields["recipient"].queryset = Organization.objects.filter(
            participations__project=project, participations__role="implementer"
        ).distinct()


class ProofUploadForm(forms.Form):
    xml = forms.FileField(label=_("Archivo XML del CFDI"), widget=forms.ClearableFileInput(attrs={"accept": ".xml"}))
    disbursement = forms.ModelChoiceField(
        label=_("Ministración a la que se carga"), queryset=Disbursement.objects.none()
    )
    amount = forms.DecimalField(
        label=_("Monto a cargar (MXN)"),
        max_digits=16,
        decimal_places=2,
        min_value=CENT,
        required=False,
        help_text=_("Vacío: lo que queda del total del CFDI."),
    )

    def __init__(self, project, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["disbursement"].queryset = Disbursement.objects.filter(commitment__project=project).select_related(
            "commitment__project", "commitment__organization"
        )


class AnnualReportForm(forms.ModelForm):
    class Meta:
        model = AnnualReport
        fields = ["year", "projects", "amount", "source"]
