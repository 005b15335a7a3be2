from django.shortcuts import redirect, render

from .forms import LeadForm


def lead_form(request):
    """GET renders the 21-field form; POST validates, saves a row and redirects."""
    form = LeadForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("thanks")
    return render(request, "baseline/form.html", {"form": form})
