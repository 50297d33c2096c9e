"""django-q2's admin pages are for superusers only: editing a schedule runs code on the workers."""

from django.contrib import admin
from django_q.models import Failure, OrmQ, Schedule, Success


def _superusers_only(admin_class):
    class SuperuserOnly(admin_class):
        def has_module_permission(self, request):
            return request.user.is_active and request.user.is_superuser

        def has_view_permission(self, request, obj=None):
            return self.has_module_permission(request)

        def has_add_permission(self, request, *args):
            return self.has_module_permission(request) and super().has_add_permission(request, *args)

        def has_change_permission(self, request, obj=None):
            return self.has_module_permission(request) and super().has_change_permission(request, obj)

        def has_delete_permission(self, request, obj=None):
            return self.has_module_permission(request) and super().has_delete_permission(request, obj)

    SuperuserOnly.__name__ = f"SuperuserOnly{admin_class.__name__}"
    return SuperuserOnly


for _model in (Schedule, Success, Failure, OrmQ):
    if admin.site.is_registered(_model):
        _registered = type(admin.site.get_model_admin(_model))
        admin.site.unregister(_model)
        admin.site.register(_model, _superusers_only(_registered))
