"""Validate every journey in a project: files, graphs, references and templates together."""

from __future__ import annotations

from dataclasses import dataclass

from waymark.core.errors import Issue
from waymark.journeys.journey import Journey
from waymark.journeys.loading import journey_files, read_journey
from waymark.journeys.project import ProjectPaths
from waymark.journeys.references import Project, check_journey, load_project
from waymark.journeys.steps import SendStep


@dataclass
class ProjectReport:
    """The journeys that passed every check, and every issue found anywhere."""

    project: Project
    journeys: list[Journey]
    issues: list[Issue]


def validate_project(paths: ProjectPaths | None = None) -> ProjectReport:
    """Check every journey file against the project's catalogue and templates."""
    project = load_project(paths or ProjectPaths.for_journeys())
    issues = list(project.issues)
    journeys: list[Journey] = []
    for path in journey_files(project.paths.journeys):
        loaded = read_journey(path)
        found = list(loaded.issues)
        if loaded.journey is not None:
            found += check_journey(loaded.journey, loaded.source, project)
            # A send using a broken template is reported in the template's file only.
            if not found and not _uses_broken_template(loaded.journey, project):
                journeys.append(loaded.journey)
        issues += found
    unique = list(dict.fromkeys(issues))
    unique.sort(key=lambda issue: (str(issue.file), issue.line, issue.column))
    return ProjectReport(project, journeys, unique)


def _uses_broken_template(journey: Journey, project: Project) -> bool:
    used = {step.send.template for step in journey.steps if isinstance(step, SendStep)}
    return bool(used & project.broken_templates)
