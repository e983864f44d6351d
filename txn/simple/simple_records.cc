// The fields of the Simple tooling's record types, in file order.
#include "txdir/simple_records.h"

namespace txdir {

std::span<const Field<Todo>> RecordTraits<Todo>::Fields() {
  static const Field<Todo> kFields[] = {
      {"id", &Todo::id},
      {"keyword", &Todo::keyword},
      {"area", &Todo::area},
      {"priority", &Todo::priority},
      {"description", &Todo::description},
      {"file", &Todo::file},
      {"line", &Todo::line},
      {"issue", &Todo::issue},
      {"blocked", &Todo::blocked},
      {"status", &Todo::status},
      {"valid", &Todo::valid},
  };
  return kFields;
}

std::span<const Field<Feature>> RecordTraits<Feature>::Fields() {
  static const Field<Feature> kFields[] = {
      {"id", &Feature::id},
      {"category", &Feature::category},
      {"name", &Feature::name},
      {"description", &Feature::description},
      {"spec", &Feature::spec},
      {"mode_interpreter", &Feature::mode_interpreter},
      {"mode_jit", &Feature::mode_jit},
      {"mode_smf_cranelift", &Feature::mode_smf_cranelift},
      {"mode_smf_llvm", &Feature::mode_smf_llvm},
      {"platforms", &Feature::platforms},
      {"status", &Feature::status},
      {"valid", &Feature::valid},
  };
  return kFields;
}

std::span<const Field<Task>> RecordTraits<Task>::Fields() {
  static const Field<Task> kFields[] = {
      {"id", &Task::id},
      {"category", &Task::category},
      {"name", &Task::name},
      {"description", &Task::description},
      {"priority", &Task::priority},
      {"status", &Task::status},
      {"valid", &Task::valid},
  };
  return kFields;
}

}  // namespace txdir
