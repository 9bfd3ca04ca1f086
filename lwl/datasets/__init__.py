from .ledm import ledm

__all__ = ["ledm"]
