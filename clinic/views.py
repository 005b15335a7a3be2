from django.shortcuts import render
from django.views.decorators.cache import cache_control

from intake.choices import EMERGENCY_FLAGS, RedFlag


@cache_control(max_age=300, public=True)
def home(request):
    return render(request, "clinic/home.html")


@cache_control(max_age=3600, public=True)
def privacy(request):
    return render(request, "clinic/privacy.html")


@cache_control(max_age=3600, public=True)
def urgent_advice(request):
    emergency = [f.label for f in RedFlag if f in EMERGENCY_FLAGS]
    same_day = [f.label for f in RedFlag if f not in EMERGENCY_FLAGS]
    return render(request, "clinic/urgent_advice.html", {"emergency": emergency, "same_day": same_day})
