from django import forms

from .models import ImportKind

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label="What the file holds", choices=ImportKind.choices)
    file = forms.FileField(label="CSV file", help_text="UTF-8, with a header row; at most 5 MB.")

    def clean_file(self) -> str:
        """The file's text; it is kept in the import's row until the import has run."""
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None
