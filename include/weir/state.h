// SPDX-License-Identifier: Apache-2.0
//
// Typed keyed state, in the spirit of Flink's ValueState, ListState,
// MapState, ReducingState and AggregatingState. A descriptor names a state
// and its serializers; GetState() opens it in a KeyedStateStore for one
// operator and returns a handle. Handles read and write the store's current
// key (KeyedStateStore::SetCurrentKey) in the handle's namespace (empty by
// default; windows set one per window).
//
// Handles are cheap values that borrow the store: they must not outlive it,
// and like the store they belong to one thread.
//
// Every value is stored as [varint serializer version][serialized bytes], so
// a newer serializer can read what an older one wrote.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <weir/raw_state.h>
#include <weir/serializer.h>

namespace weir {

namespace internal {

inline void PutVersion(uint32_t version, std::string* out) {
  while (version >= 0x80) {
    out->push_back(static_cast<char>((version & 0x7f) | 0x80));
    version >>= 7;
  }
  out->push_back(static_cast<char>(version));
}

Status BadVersionHeader(std::string_view state_name);
Status UnknownVersion(std::string_view state_name, uint32_t version,
                      uint32_t known);

template <class T, class S>
void EncodeValue(const S& serializer, const T& value, std::string* out) {
  if constexpr (S::kVersion < 0x80) {
    out->assign(1, static_cast<char>(S::kVersion));
  } else {
    out->clear();
    PutVersion(S::kVersion, out);
  }
  serializer.Serialize(value, out);
}

// DecodeValue for any header: the varint loop and the errors.
template <class T, class S>
Status DecodeValueSlow(const S& serializer, std::string_view name,
                       std::string_view in, T* out) {
  uint32_t version = 0;
  for (int shift = 0;; shift += 7) {
    if (in.empty() || shift > 28) return BadVersionHeader(name);
    const auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    version |= static_cast<uint32_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
  }
  if (version == 0 || version > S::kVersion) {
    return UnknownVersion(name, version, S::kVersion);
  }
  return serializer.Deserialize(version, in, out);
}

template <class T, class S>
Status DecodeValue(const S& serializer, std::string_view name,
                   std::string_view in, T* out) {
  // The usual case inline: a one-byte header holding a known version.
  constexpr uint32_t kMaxShort = S::kVersion < 0x7f ? S::kVersion : 0x7f;
  if (!in.empty()) {
    const uint32_t version = static_cast<uint8_t>(in.front());
    if (version - 1 < kMaxShort) {
      return serializer.Deserialize(
          version, std::string_view(in.data() + 1, in.size() - 1), out);
    }
  }
  return DecodeValueSlow(serializer, name, in, out);
}

}  // namespace internal

// ---------------------------------------------------------------- value

template <class T, class S = Serializer<T>>
requires SerializerFor<S, T>
struct ValueStateDescriptor {
  std::string name;
  S serializer{};
  StateTtlConfig ttl{};
};

template <class T, class S = Serializer<T>>
class ValueState {
 public:
  ValueState(RawValueState* raw, std::string name, S serializer)
      : raw_(raw), name_(std::move(name)), serializer_(std::move(serializer)) {}

  void SetNamespace(std::string_view ns) { ns_.assign(ns); }

  // The value for the current key, or nullopt if there is none.
  Result<std::optional<T>> Value() {
    // One object returned on every path, so that it is built in the
    // caller's (NRVO) and the value is decoded right into it, not copied.
    Result<std::optional<T>> result{std::optional<T>()};
    std::string_view bytes;
    Result<bool> found = raw_->GetView(ns_, &buf_, &bytes);
    if (!found.ok()) {
      result = Result<std::optional<T>>(std::move(found).status());
    } else if (*found) {
      std::optional<T>& value = *result;
      value.emplace();
      Status s = internal::DecodeValue(serializer_, name_, bytes, &*value);
      if (!s.ok()) result = Result<std::optional<T>>(std::move(s));
    }
    return result;
  }
  Status Update(const T& value) {
    internal::EncodeValue(serializer_, value, &buf_);
    return raw_->Put(ns_, buf_);
  }
  Status Clear() { return raw_->Clear(ns_); }

 private:
  RawValueState* raw_;
  std::string name_;
  S serializer_;
  std::string ns_;
  std::string buf_;
};

template <class T, class S>
Result<ValueState<T, S>> GetState(KeyedStateStore& store, const OperatorId& op,
                                  const ValueStateDescriptor<T, S>& d) {
  RawStateDescriptor raw{d.name, StateType::kValue, S::kVersion, 0, d.ttl};
  Result<RawValueState*> r = store.GetValueState(op, raw);
  if (!r.ok()) return r.status();
  return ValueState<T, S>(*r, d.name, d.serializer);
}

// ---------------------------------------------------------------- list

template <class T, class S = Serializer<T>>
requires SerializerFor<S, T>
struct ListStateDescriptor {
  std::string name;
  S serializer{};
  StateTtlConfig ttl{};
};

template <class T, class S = Serializer<T>>
class ListState {
 public:
  ListState(RawListState* raw, std::string name, S serializer)
      : raw_(raw), name_(std::move(name)), serializer_(std::move(serializer)) {}

  void SetNamespace(std::string_view ns) { ns_.assign(ns); }

  // The list for the current key, oldest first; empty if there is none.
  Result<std::vector<T>> Get() {
    Status s = raw_->Get(ns_, &raw_values_);
    if (!s.ok()) return s;
    std::vector<T> out;
    out.reserve(raw_values_.size());
    for (const std::string& bytes : raw_values_) {
      T value{};
      s = internal::DecodeValue(serializer_, name_, bytes, &value);
      if (!s.ok()) return s;
      out.push_back(std::move(value));
    }
    return out;
  }
  Status Add(const T& value) {
    internal::EncodeValue(serializer_, value, &buf_);
    return raw_->Add(ns_, buf_);
  }
  Status AddAll(const std::vector<T>& values) {
    for (const T& v : values) {
      Status s = Add(v);
      if (!s.ok()) return s;
    }
    return Status::OK();
  }
  // Replaces the list; an empty vector clears it.
  Status Update(const std::vector<T>& values) {
    raw_values_.resize(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      internal::EncodeValue(serializer_, values[i], &raw_values_[i]);
    }
    return raw_->Update(ns_, raw_values_);
  }
  Status Clear() { return raw_->Clear(ns_); }

 private:
  RawListState* raw_;
  std::string name_;
  S serializer_;
  std::string ns_;
  std::string buf_;
  std::vector<std::string> raw_values_;
};

template <class T, class S>
Result<ListState<T, S>> GetState(KeyedStateStore& store, const OperatorId& op,
                                 const ListStateDescriptor<T, S>& d) {
  RawStateDescriptor raw{d.name, StateType::kList, S::kVersion, 0, d.ttl};
  Result<RawListState*> r = store.GetListState(op, raw);
  if (!r.ok()) return r.status();
  return ListState<T, S>(*r, d.name, d.serializer);
}

// ---------------------------------------------------------------- map

template <class K, class V, class KS = Serializer<K>, class VS = Serializer<V>>
requires SerializerFor<KS, K> && SerializerFor<VS, V>
struct MapStateDescriptor {
  std::string name;
  KS key_serializer{};
  VS value_serializer{};
  StateTtlConfig ttl{};
};

template <class K, class V, class KS = Serializer<K>, class VS = Serializer<V>>
class MapState {
 public:
  MapState(RawMapState* raw, std::string name, KS ks, VS vs)
      : raw_(raw),
        name_(std::move(name)),
        key_serializer_(std::move(ks)),
        value_serializer_(std::move(vs)) {}

  void SetNamespace(std::string_view ns) { ns_.assign(ns); }

  Result<std::optional<V>> Get(const K& key) {
    EncodeKey(key);
    Result<bool> found = raw_->Get(ns_, key_buf_, &buf_);
    if (!found.ok()) return found.status();
    if (!*found) return std::optional<V>();
    V value{};
    Status s = internal::DecodeValue(value_serializer_, name_, buf_, &value);
    if (!s.ok()) return s;
    return std::optional<V>(std::move(value));
  }
  Status Put(const K& key, const V& value) {
    EncodeKey(key);
    internal::EncodeValue(value_serializer_, value, &buf_);
    return raw_->Put(ns_, key_buf_, buf_);
  }
  Status Remove(const K& key) {
    EncodeKey(key);
    return raw_->Remove(ns_, key_buf_);
  }
  Result<bool> Contains(const K& key) {
    EncodeKey(key);
    return raw_->Contains(ns_, key_buf_);
  }
  Result<bool> IsEmpty() { return raw_->IsEmpty(ns_); }
  Status Clear() { return raw_->Clear(ns_); }

  // Visits entries in the byte order of the serialized keys (numeric order
  // for the built-in integer serializers).
  Status ForEach(const std::function<Status(const K&, const V&)>& visitor) {
    return raw_->ForEach(
        ns_, [&](std::string_view kbytes, std::string_view vbytes) -> Status {
          K key{};
          Status s = key_serializer_.Deserialize(KS::kVersion, kbytes, &key);
          if (!s.ok()) return s;
          V value{};
          s = internal::DecodeValue(value_serializer_, name_, vbytes, &value);
          if (!s.ok()) return s;
          return visitor(key, value);
        });
  }
  Result<std::vector<std::pair<K, V>>> Entries() {
    std::vector<std::pair<K, V>> out;
    Status s = ForEach([&](const K& k, const V& v) {
      out.emplace_back(k, v);
      return Status::OK();
    });
    if (!s.ok()) return s;
    return out;
  }

 private:
  // Map keys are stored without a version header: their bytes are the
  // lookup key, so the key serializer's format is fixed for the state.
  void EncodeKey(const K& key) {
    key_buf_.clear();
    key_serializer_.Serialize(key, &key_buf_);
  }

  RawMapState* raw_;
  std::string name_;
  KS key_serializer_;
  VS value_serializer_;
  std::string ns_;
  std::string key_buf_;
  std::string buf_;
};

template <class K, class V, class KS, class VS>
Result<MapState<K, V, KS, VS>> GetState(
    KeyedStateStore& store, const OperatorId& op,
    const MapStateDescriptor<K, V, KS, VS>& d) {
  RawStateDescriptor raw{d.name, StateType::kMap, VS::kVersion, KS::kVersion,
                         d.ttl};
  Result<RawMapState*> r = store.GetMapState(op, raw);
  if (!r.ok()) return r.status();
  return MapState<K, V, KS, VS>(*r, d.name, d.key_serializer,
                                d.value_serializer);
}

// ---------------------------------------------------------------- reducing

template <class T, class S = Serializer<T>>
requires SerializerFor<S, T>
struct ReducingStateDescriptor {
  std::string name;
  std::function<T(const T&, const T&)> reduce;
  S serializer{};
  StateTtlConfig ttl{};
};

// Keeps one value per key: each Add(v) stores reduce(current, v).
template <class T, class S = Serializer<T>>
class ReducingState {
 public:
  ReducingState(ValueState<T, S> inner, std::function<T(const T&, const T&)> f)
      : inner_(std::move(inner)), reduce_(std::move(f)) {}

  void SetNamespace(std::string_view ns) { inner_.SetNamespace(ns); }
  Result<std::optional<T>> Get() { return inner_.Value(); }
  Status Add(const T& value) {
    Result<std::optional<T>> current = inner_.Value();
    if (!current.ok()) return current.status();
    return inner_.Update(current->has_value() ? reduce_(**current, value)
                                              : value);
  }
  Status Clear() { return inner_.Clear(); }

 private:
  ValueState<T, S> inner_;
  std::function<T(const T&, const T&)> reduce_;
};

template <class T, class S>
Result<ReducingState<T, S>> GetState(KeyedStateStore& store,
                                     const OperatorId& op,
                                     const ReducingStateDescriptor<T, S>& d) {
  RawStateDescriptor raw{d.name, StateType::kReducing, S::kVersion, 0, d.ttl};
  Result<RawValueState*> r = store.GetValueState(op, raw);
  if (!r.ok()) return r.status();
  return ReducingState<T, S>(ValueState<T, S>(*r, d.name, d.serializer),
                             d.reduce);
}

// ---------------------------------------------------------------- aggregating

// Flink's AggregateFunction: an accumulator of type Acc per key, fed inputs
// of type In, read as Out.
template <class In, class Acc, class Out>
struct AggregateFunction {
  std::function<Acc()> create_accumulator;
  std::function<void(const In&, Acc*)> add;
  std::function<Out(const Acc&)> get_result;
  // Combines two accumulators; merging (session) windows need it.
  std::function<Acc(const Acc&, const Acc&)> merge;
};

template <class In, class Acc, class Out, class AccS = Serializer<Acc>>
requires SerializerFor<AccS, Acc>
struct AggregatingStateDescriptor {
  std::string name;
  AggregateFunction<In, Acc, Out> function;
  AccS serializer{};
  StateTtlConfig ttl{};
};

template <class In, class Acc, class Out, class AccS = Serializer<Acc>>
class AggregatingState {
 public:
  AggregatingState(ValueState<Acc, AccS> inner,
                   AggregateFunction<In, Acc, Out> f)
      : inner_(std::move(inner)), function_(std::move(f)) {}

  void SetNamespace(std::string_view ns) { inner_.SetNamespace(ns); }
  Result<std::optional<Out>> Get() {
    Result<std::optional<Acc>> acc = inner_.Value();
    if (!acc.ok()) return acc.status();
    if (!acc->has_value()) return std::optional<Out>();
    return std::optional<Out>(function_.get_result(**acc));
  }
  Status Add(const In& value) {
    Result<std::optional<Acc>> current = inner_.Value();
    if (!current.ok()) return current.status();
    Acc acc = current->has_value() ? std::move(**current)
                                   : function_.create_accumulator();
    function_.add(value, &acc);
    return inner_.Update(acc);
  }
  Status Clear() { return inner_.Clear(); }

 private:
  ValueState<Acc, AccS> inner_;
  AggregateFunction<In, Acc, Out> function_;
};

template <class In, class Acc, class Out, class AccS>
Result<AggregatingState<In, Acc, Out, AccS>> GetState(
    KeyedStateStore& store, const OperatorId& op,
    const AggregatingStateDescriptor<In, Acc, Out, AccS>& d) {
  RawStateDescriptor raw{d.name, StateType::kAggregating, AccS::kVersion, 0,
                         d.ttl};
  Result<RawValueState*> r = store.GetValueState(op, raw);
  if (!r.ok()) return r.status();
  return AggregatingState<In, Acc, Out, AccS>(
      ValueState<Acc, AccS>(*r, d.name, d.serializer), d.function);
}

// ---------------------------------------------------------------- operator

// Operator (non-keyed) list state with a typed element.
template <class T, class S = Serializer<T>>
class OperatorListState {
 public:
  OperatorListState(RawOperatorListState* raw, std::string name, S s)
      : raw_(raw), name_(std::move(name)), serializer_(std::move(s)) {}

  Result<std::vector<T>> Get() {
    std::vector<std::string> raw_values;
    Status s = raw_->Get(&raw_values);
    if (!s.ok()) return s;
    std::vector<T> out;
    out.reserve(raw_values.size());
    for (const std::string& bytes : raw_values) {
      T value{};
      s = internal::DecodeValue(serializer_, name_, bytes, &value);
      if (!s.ok()) return s;
      out.push_back(std::move(value));
    }
    return out;
  }
  Status Add(const T& value) {
    std::string buf;
    internal::EncodeValue(serializer_, value, &buf);
    return raw_->Add(buf);
  }
  Status Update(const std::vector<T>& values) {
    std::vector<std::string> raw_values(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      internal::EncodeValue(serializer_, values[i], &raw_values[i]);
    }
    return raw_->Update(raw_values);
  }
  Status Clear() { return raw_->Clear(); }

 private:
  RawOperatorListState* raw_;
  std::string name_;
  S serializer_;
};

template <class T, class S = Serializer<T>>
Result<OperatorListState<T, S>> GetOperatorListState(
    KeyedStateStore& store, const OperatorId& op, std::string_view name,
    OperatorStateMode mode = OperatorStateMode::kSplit, S serializer = S{}) {
  Result<RawOperatorListState*> r = store.GetOperatorListState(op, name, mode);
  if (!r.ok()) return r.status();
  return OperatorListState<T, S>(*r, std::string(name), std::move(serializer));
}

}  // namespace weir
