from django.shortcuts import render


def library(request):
    return render(request, "education/library.html", {"stretches": []})
